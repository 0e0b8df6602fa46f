"""The evidence package's populations: one SELECT per population over a period [start, end).

Each function returns a column statement whose labels are the CSV header, ordered so two
exports of the same records list them in the same order. The statements are what the IPE
record quotes (compiled SQL and parameters), so they select from the live tables directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, union
from sqlalchemy.orm import aliased

from changegate.db.models import (
    Approval,
    Change,
    ChangeVersion,
    Deployment,
    Finding,
    GateDecisionRecord,
    Review,
    TestRun,
    User,
)

PIR = "pir"


def between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def active_change_ids(start: datetime, end: datetime) -> Select[Any]:
    """Changes with any activity in the period: created, submitted, decided, tested, gated,
    deployed, implemented, closed, reviewed, due, or named by a finding that occurred in it."""
    c = Change
    return select(
        union(
            select(c.id).where(
                or_(
                    *(
                        between(col, start, end)
                        for col in (
                            c.created_at,
                            c.submitted_at,
                            c.approved_at,
                            c.implemented_at,
                            c.closed_at,
                            c.retro_due_at,
                            c.pir_due_at,
                        )
                    )
                )
            ),
            select(Approval.change_id).where(between(Approval.decided_at, start, end)),
            select(Deployment.change_id).where(between(Deployment.started_at, start, end)),
            select(TestRun.change_id).where(between(TestRun.recorded_at, start, end)),
            select(GateDecisionRecord.change_id).where(
                GateDecisionRecord.change_id.is_not(None),
                between(GateDecisionRecord.decided_at, start, end),
            ),
            select(Review.change_id).where(
                Review.change_id.is_not(None), between(Review.recorded_at, start, end)
            ),
            select(c.id)
            .join(Finding, Finding.attributes["change"].as_string() == c.key)
            .where(between(Finding.occurred_at, start, end)),
        ).subquery()
    )


def changes(start: datetime, end: datetime) -> Select[Any]:
    requester = aliased(User)
    return (
        select(
            Change.key.label("key"),
            Change.title.label("title"),
            requester.email.label("requester"),
            Change.status.label("status"),
            Change.change_type.label("change_type"),
            Change.risk.label("risk"),
            Change.version.label("version"),
            Change.version_hash.label("version_hash"),
            Change.ticket.label("ticket"),
            Change.environments.label("environments"),
            Change.window_start.label("window_start"),
            Change.window_end.label("window_end"),
            Change.created_at.label("created_at"),
            Change.submitted_at.label("submitted_at"),
            Change.approved_at.label("approved_at"),
            Change.implemented_at.label("implemented_at"),
            Change.closed_at.label("closed_at"),
        )
        .join(requester, requester.id == Change.requester_id)
        .where(Change.id.in_(active_change_ids(start, end)))
        .order_by(Change.number)
    )


def change_versions(start: datetime, end: datetime) -> Select[Any]:
    author = aliased(User)
    return (
        select(
            Change.key.label("change_key"),
            ChangeVersion.version.label("version"),
            ChangeVersion.hash.label("hash"),
            author.email.label("created_by"),
            ChangeVersion.created_at.label("created_at"),
        )
        .join(Change, Change.id == ChangeVersion.change_id)
        .join(author, author.id == ChangeVersion.created_by_id)
        .where(between(ChangeVersion.created_at, start, end))
        .order_by(Change.number, ChangeVersion.version)
    )


def approvals(start: datetime, end: datetime) -> Select[Any]:
    approver = aliased(User)
    return (
        select(
            Approval.id.label("id"),
            Change.key.label("change_key"),
            Approval.version.label("version"),
            Approval.role.label("role"),
            Approval.decision.label("decision"),
            approver.email.label("approver"),
            Approval.retroactive.label("retroactive"),
            Approval.decided_at.label("decided_at"),
            Approval.comment.label("comment"),
        )
        .join(Change, Change.id == Approval.change_id)
        .join(approver, approver.id == Approval.approver_id)
        .where(between(Approval.decided_at, start, end))
        .order_by(Approval.id)
    )


def emergency_changes(start: datetime, end: datetime) -> Select[Any]:
    """One row per emergency change active in the period, and per PIR recorded for it."""
    author = aliased(User)
    return (
        select(
            Change.key.label("key"),
            Change.status.label("status"),
            Change.justification.label("justification"),
            Change.implemented_at.label("implemented_at"),
            Change.retro_due_at.label("retro_due_at"),
            Change.retro_approved_at.label("retro_approved_at"),
            Change.pir_due_at.label("pir_due_at"),
            Change.pir_recorded_at.label("pir_recorded_at"),
            Review.id.label("pir_id"),
            author.email.label("pir_author"),
            Review.recorded_at.label("pir_at"),
        )
        .outerjoin(Review, and_(Review.change_id == Change.id, Review.kind == PIR))
        .outerjoin(author, author.id == Review.author_id)
        .where(Change.change_type == "emergency", Change.id.in_(active_change_ids(start, end)))
        .order_by(Change.number, Review.id)
    )


def test_runs(start: datetime, end: datetime) -> Select[Any]:
    recorder = aliased(User)
    return (
        select(
            TestRun.id.label("id"),
            Change.key.label("change_key"),
            TestRun.environment.label("environment"),
            TestRun.isolated.label("isolated"),
            TestRun.commit.label("commit"),
            TestRun.artifact.label("artifact"),
            TestRun.ok.label("ok"),
            TestRun.verdict.label("verdict"),
            TestRun.tests.label("tests"),
            TestRun.passed.label("passed"),
            TestRun.failures.label("failures"),
            TestRun.errors.label("errors"),
            TestRun.skipped.label("skipped"),
            TestRun.report_sha256.label("report_sha256"),
            TestRun.report_format.label("report_format"),
            TestRun.doc_url.label("doc_url"),
            recorder.email.label("recorded_by"),
            TestRun.recorded_at.label("recorded_at"),
        )
        .join(Change, Change.id == TestRun.change_id)
        .join(recorder, recorder.id == TestRun.recorded_by_id)
        .where(between(TestRun.recorded_at, start, end))
        .order_by(TestRun.id)
    )


def gate_decisions(start: datetime, end: datetime) -> Select[Any]:
    g = GateDecisionRecord
    return (
        select(
            g.id.label("id"),
            g.change_key.label("change_key"),
            g.environment.label("environment"),
            g.commit.label("commit"),
            g.artifact.label("artifact"),
            g.principal.label("principal"),
            g.allowed.label("allowed"),
            g.reasons.label("reasons"),
            g.policy_digest.label("policy_digest"),
            g.source.label("source"),
            g.decided_at.label("decided_at"),
        )
        .where(between(g.decided_at, start, end))
        .order_by(g.id)
    )


def deployments(start: datetime, end: datetime) -> Select[Any]:
    deployer = aliased(User)
    d = Deployment
    return (
        select(
            d.id.label("id"),
            Change.key.label("change_key"),
            d.environment.label("environment"),
            d.kind.label("kind"),
            d.commit.label("commit"),
            d.artifact.label("artifact"),
            d.status.label("status"),
            d.run_url.label("run_url"),
            d.iac_path.label("iac_path"),
            d.iac_sha256.label("iac_sha256"),
            deployer.email.label("deployer"),
            d.gate_decision_id.label("gate_decision_id"),
            d.rollback_of_id.label("rollback_of"),
            d.reason.label("reason"),
            d.started_at.label("started_at"),
            d.finished_at.label("finished_at"),
        )
        .join(Change, Change.id == d.change_id)
        .join(deployer, deployer.id == d.deployer_id)
        .where(between(d.started_at, start, end))
        .order_by(d.id)
    )
