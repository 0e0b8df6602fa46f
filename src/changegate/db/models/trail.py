"""CloudTrail events as ingested (CM-5), and how far each trail bucket has been read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from changegate.db.models.core import Base
from changegate.domain.limits import TRAIL_EVENT as _W


class TrailEvent(Base):
    """One CloudTrail record, stored once by its `eventID` whichever file or delivery brought it.

    The columns are what the queries filter by; `raw` is the record as received (compact JSON),
    from which the audit re-classifies under the policy in force when it runs."""

    __tablename__ = "trail_events"
    event_id: Mapped[str] = mapped_column(String(_W["event_id"]), primary_key=True)
    event_time: Mapped[datetime] = mapped_column(index=True)
    event_source: Mapped[str] = mapped_column(String(_W["event_source"]))
    event_name: Mapped[str] = mapped_column(String(_W["event_name"]))
    account: Mapped[str | None] = mapped_column(String(_W["account"]))
    region: Mapped[str | None] = mapped_column(String(_W["region"]))
    environment: Mapped[str | None] = mapped_column(String(_W["environment"]))
    kind: Mapped[str] = mapped_column(String(_W["kind"]))
    actor_kind: Mapped[str] = mapped_column(String(_W["actor_kind"]))
    principal: Mapped[str] = mapped_column(String(_W["principal"]))
    actor_name: Mapped[str] = mapped_column(String(_W["actor_name"]))
    change_key: Mapped[str | None] = mapped_column(String(_W["change_key"]), index=True)
    error_code: Mapped[str | None] = mapped_column(String(_W["error_code"]))
    source: Mapped[str] = mapped_column(String(_W["source"]))  # the file or S3 key, or "api"
    position: Mapped[int] = mapped_column(Integer)  # the record's index in its source
    raw: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime]
    __table_args__ = (Index("ix_trail_events_kind_time", "kind", "event_time"),)


class TrailCursor(Base):
    """The last S3 key fully ingested under a bucket and prefix, per account and region:
    CloudTrail's keys sort by delivery time there, so listing resumes after it."""

    __tablename__ = "trail_cursors"
    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(63))
    prefix: Mapped[str] = mapped_column(String(1024))
    account: Mapped[str] = mapped_column(String(_W["account"]))
    region: Mapped[str] = mapped_column(String(_W["region"]))
    last_key: Mapped[str] = mapped_column(String(1024))
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("bucket", "prefix", "account", "region"),)
