"""Linear issues linked to change requests and waivers, and how far `linear sync` has read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from changegate.db.models.core import Base


class LinearIssue(Base):
    """A Linear issue that asked for a change request or a waiver (the front door, CM-1).

    `key` is the change (`CHG-42`) or waiver (`WVR-3`) it created, None while its template is
    incomplete; `content_sha256` is the digest of the parsed template last applied, so a
    delivery that changed nothing material makes no new version; `problem_sha256` is the
    digest of the last complaint commented back, so the same one is not repeated."""

    __tablename__ = "linear_issues"
    issue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str | None] = mapped_column(String(20), unique=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    problem_sha256: Mapped[str | None] = mapped_column(String(64))
    issue_updated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    lock_version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": lock_version}


class LinearCursor(Base):
    """How far `linear sync` has reconciled (Linear's `updatedAt` of the newest issue read)."""

    __tablename__ = "linear_cursors"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    synced_to: Mapped[datetime]
    updated_at: Mapped[datetime]
