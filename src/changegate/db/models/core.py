"""Core tables: people, change requests, approvals, the ledger, tokens, the pipeline's records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from changegate.db.types import UTCDateTime
from changegate.domain import limits


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Links what GitHub reports (a pull request's author, its reviewer) to the person.
    github_login: Mapped[str | None] = mapped_column(String(100), unique=True)
    # Loaded when read: every approver, requester and recorder loaded along a gate call would
    # otherwise cost a roles query each, for roles only the principal's check reads.
    roles: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="UserRole.role"
    )

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class Counter(Base):
    """Gap-free key numbers: incremented under a row lock inside the creating transaction."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Change(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(default=1)
    version_hash: Mapped[str] = mapped_column(String(64))
    # Compare-and-set token: every write to the row must name the token it read.
    lock_version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(300))
    scope: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    rollback_plan: Mapped[str] = mapped_column(Text, default="")
    risk: Mapped[str] = mapped_column(String(10))
    change_type: Mapped[str] = mapped_column(String(10))
    justification: Mapped[str] = mapped_column(Text, default="")
    affected_services: Mapped[list[str]] = mapped_column(default=list)
    environments: Mapped[list[str]] = mapped_column(default=list)
    customer_impact: Mapped[str] = mapped_column(Text, default="")
    expected_downtime_minutes: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    ticket: Mapped[str] = mapped_column(String(300), default="")
    commit_authors: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    implemented_at: Mapped[datetime | None] = mapped_column(index=True)
    # Who marked it implemented: a pipeline (through a deployment) or a person (CM-5's question).
    implemented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    approved_before_implementation: Mapped[bool | None]
    retro_due_at: Mapped[datetime | None] = mapped_column(index=True)
    pir_due_at: Mapped[datetime | None] = mapped_column(index=True)
    due_calendar: Mapped[dict[str, Any] | None]
    retro_approved_at: Mapped[datetime | None]
    pir_recorded_at: Mapped[datetime | None]
    requester: Mapped[User] = relationship(lazy="joined", foreign_keys=[requester_id])
    __mapper_args__ = {"version_id_col": lock_version}


class ChangeVersion(Base):
    __tablename__ = "change_versions"
    __table_args__ = (UniqueConstraint("change_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    version: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Approval(Base):
    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    version: Mapped[int]
    role: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(10))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime]
    retroactive: Mapped[bool] = mapped_column(Boolean, default=False)
    approver: Mapped[User] = relationship(lazy="joined")


class Review(Base):
    """PIRs now; quarterly and annual reviews share the table (kind)."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    author: Mapped[User] = relationship(lazy="joined")


class LedgerRecord(Base):
    __tablename__ = "ledger"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(limits.LEDGER_SUBJECT), index=True)
    # Canonical JSON text, hashed as stored; a JSON column could re-order or re-format it.
    payload: Mapped[str] = mapped_column(Text)
    clock_override: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The canonical form the record was hashed in: 1, Python's sorted JSON (before 0010);
    # 2, RFC 8785. Hashed itself from form 2 on, so it cannot be switched unseen.
    canon: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="1")


class LedgerHead(Base):
    """One row: the chain's tip. Appenders lock it, so the chain stays linear under concurrency."""

    __tablename__ = "ledger_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    __tablename__ = "ledger_checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int]
    at: Mapped[datetime]
    signature: Mapped[str | None] = mapped_column(Text)
    public_key: Mapped[str | None] = mapped_column(Text)


class Token(Base):
    """API tokens: only the SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    user: Mapped[User] = relationship(lazy="joined")


class TestRun(Base):
    __tablename__ = "test_runs"
    __test__ = False  # not a pytest class, despite the name
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    environment: Mapped[str] = mapped_column(String(40))
    isolated: Mapped[bool] = mapped_column(Boolean)
    commit: Mapped[str] = mapped_column(String(64), index=True)
    artifact: Mapped[str | None] = mapped_column(String(200), index=True)
    tests: Mapped[int]
    passed: Mapped[int]
    failures: Mapped[int]
    errors: Mapped[int]
    skipped: Mapped[int]
    not_run: Mapped[int] = mapped_column(default=0, server_default="0")
    warnings: Mapped[int] = mapped_column(default=0, server_default="0")
    suite_errors: Mapped[int] = mapped_column(default=0, server_default="0")
    flaky: Mapped[int]
    duration_seconds: Mapped[float]
    report_sha256: Mapped[str] = mapped_column(String(64))
    report_format: Mapped[str] = mapped_column(String(40))
    doc_url: Mapped[str | None] = mapped_column(String(1000))
    ok: Mapped[bool] = mapped_column(Boolean)
    verdict: Mapped[str | None] = mapped_column(String(300))  # why it passes or not
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[User] = relationship(lazy="joined")
    change: Mapped[Change] = relationship(lazy="select")


class CodeReview(Base):
    """Peer review GitHub reported for a pull request: an approving review, or its merge."""

    __tablename__ = "code_reviews"
    __table_args__ = (
        UniqueConstraint("repository", "pull_number", "kind", "actor_login", "commit_sha"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    repository: Mapped[str] = mapped_column(String(200))
    pull_number: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    head_ref: Mapped[str] = mapped_column(String(255))
    author_login: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # approved | merged
    actor_login: Mapped[str] = mapped_column(String(100))  # the reviewer, or who merged
    commit_sha: Mapped[str] = mapped_column(String(64))  # reviewed head, or the merge commit
    at: Mapped[datetime]
    url: Mapped[str] = mapped_column(String(500))
    delivery_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]


class GateDecisionRecord(Base):
    __tablename__ = "gate_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    change_key: Mapped[str] = mapped_column(String(40))
    environment: Mapped[str] = mapped_column(String(40))
    commit: Mapped[str] = mapped_column(String(64))
    artifact: Mapped[str | None] = mapped_column(String(200))
    principal: Mapped[str] = mapped_column(String(320))
    allowed: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    obligations: Mapped[list[str]]
    inputs: Mapped[dict[str, Any]]
    policy_digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(40), default="api")
    decided_at: Mapped[datetime]


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    environment: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), default="deploy")
    commit: Mapped[str] = mapped_column(String(64))
    artifact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    run_url: Mapped[str] = mapped_column(String(1000))
    iac_path: Mapped[str | None] = mapped_column(String(500))
    iac_sha256: Mapped[str | None] = mapped_column(String(64))
    deployer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Unique: one allow decision authorises one deployment, never two.
    gate_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("gate_decisions.id"), unique=True
    )
    rollback_of_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)
    deployer: Mapped[User] = relationship(lazy="joined")
    change: Mapped[Change] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": lock_version}


class WebhookDelivery(Base):
    """Deliveries already handled, so a replayed webhook is ignored."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    delivery_id: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)


class InstallationFact(Base):
    """Facts about this installation itself (`adopted_on`: when changegate was adopted)."""

    __tablename__ = "installation"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
