"""Tables for the detective half: waivers, audit runs, findings, disciplinary actions, outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from changegate.db.models.core import Base, User
from changegate.domain import limits


class Waiver(Base):
    """The policy's exception: justified, jointly approved, time-limited (EXC-1)."""

    __tablename__ = "waivers"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(300))
    justification: Mapped[str] = mapped_column(Text)
    compensating_controls: Mapped[str] = mapped_column(Text)
    controls: Mapped[list[str]]
    scope_kind: Mapped[str] = mapped_column(String(20))
    scope_value: Mapped[str] = mapped_column(String(limits.RESOURCE_ID))
    requested_days: Mapped[int]
    # A renewal is a new round: only approvals of the current round count.
    round: Mapped[int] = mapped_column(default=1)
    # Every approved window, [{"round", "start", "end"}]: suppression looks at the window that
    # held when the finding's event happened, so re-running an old period gives the same answer.
    periods: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    active_from: Mapped[datetime | None]
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    reviewed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)
    requester: Mapped[User] = relationship(lazy="joined")
    approvals: Mapped[list[WaiverApproval]] = relationship(
        lazy="selectin", order_by="WaiverApproval.id"
    )
    __mapper_args__ = {"version_id_col": lock_version}


class WaiverApproval(Base):
    __tablename__ = "waiver_approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    waiver_id: Mapped[int] = mapped_column(ForeignKey("waivers.id"), index=True)
    round: Mapped[int]
    role: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(10))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime]
    approver: Mapped[User] = relationship(lazy="joined")


class AuditRun(Base):
    """One re-performance of the rules over a period: what ran, as of when, what it found."""

    __tablename__ = "audit_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(20), index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    as_of: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    started_at: Mapped[datetime]
    rules: Mapped[list[str]]
    counts: Mapped[dict[str, Any]]
    # Rules that had nothing to check for want of configuration (e.g. no production account).
    not_checked: Mapped[list[str] | None]
    # SHA-256 over the sorted fingerprints and statuses: two runs over the same records agree.
    digest: Mapped[str] = mapped_column(String(64))


class Finding(Base):
    """A violation raised by an audit rule; one row per fingerprint however often it is re-run."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(limits.FINGERPRINT), unique=True)
    control: Mapped[str] = mapped_column(String(20), index=True)
    rule: Mapped[str] = mapped_column(String(limits.RULE))
    subject: Mapped[str] = mapped_column(String(limits.FINDING_SUBJECT))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]]
    attributes: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), index=True)
    waiver_key: Mapped[str | None] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    first_detected_at: Mapped[datetime]
    last_detected_at: Mapped[datetime]
    first_run_id: Mapped[int] = mapped_column(ForeignKey("audit_runs.id"))
    reported_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    dismissal_reason: Mapped[str | None] = mapped_column(Text)
    remediation_due_at: Mapped[datetime | None]
    due_calendar: Mapped[dict[str, Any] | None]
    remediation_kind: Mapped[str | None] = mapped_column(String(20))
    remediation: Mapped[str | None] = mapped_column(Text)
    remediated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    remediated_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": lock_version}


class DisciplinaryAction(Base):
    """Recorded by HR only; auditors learn that one exists, never its details."""

    __tablename__ = "disciplinary_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    person: Mapped[User] = relationship(foreign_keys=[person_id], lazy="joined")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], lazy="joined")


class Notification(Base):
    """The transactional outbox: written with the event, delivered later with retries."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "next_attempt_at"),
        UniqueConstraint("event_key", "channel", "recipient"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # What caused it (e.g. "finding.reported:FND-3"): with channel and recipient it is unique,
    # so re-raising an event never queues a second copy.
    event_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(500))
    recipient_role: Mapped[str | None] = mapped_column(String(200))  # comma-separated
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": lock_version}


class Lease(Base):
    """A named job lease, so two workers never run the same periodic job at once."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
