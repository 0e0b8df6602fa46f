"""CAB meetings: the meeting, its agenda (each item pinned to the change's version at creation),
who attended, and each member's decision per item (linked to the approval it produced)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from changegate.db.models.core import Approval, Base, Change, User


class CabMeeting(Base):
    __tablename__ = "cab_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    held_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    minutes: Mapped[str] = mapped_column(Text, default="")
    minutes_edited_at: Mapped[datetime | None]
    minutes_edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # SHA-256 of the canonical minutes document, fixed at close; the closing record carries it.
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    # Compare-and-set: a decision and a close racing each other cannot both win.
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[User] = relationship(lazy="joined", foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[closed_by_id])
    minutes_edited_by: Mapped[User | None] = relationship(
        lazy="joined", foreign_keys=[minutes_edited_by_id]
    )
    __mapper_args__ = {"version_id_col": lock_version}


class CabAgendaItem(Base):
    __tablename__ = "cab_agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "change_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cab_meetings.id"), index=True)
    position: Mapped[int]
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The change as the agenda showed it: a later edit is a new version, shown as moved.
    version: Mapped[int]
    version_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    change: Mapped[Change] = relationship(lazy="joined")


class CabAttendance(Base):
    __tablename__ = "cab_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cab_meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The CAB and ISO roles held when they marked themself present.
    roles: Mapped[list[str]]
    attended_at: Mapped[datetime]
    user: Mapped[User] = relationship(lazy="joined")


class CabDecision(Base):
    __tablename__ = "cab_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("cab_meetings.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("cab_agenda_items.id"), index=True)
    decider_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(10))
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    # The approval (or rejection) this decision is; none for a deferral.
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"), unique=True)
    decided_at: Mapped[datetime]
    decider: Mapped[User] = relationship(lazy="joined")
    approval: Mapped[Approval | None] = relationship(lazy="select")
