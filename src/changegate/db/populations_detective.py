"""The evidence package's populations of configuration, exceptions, findings and reviews: one
SELECT per population over a period [start, end) (see `populations` for the change side)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased

from changegate.db.models import (
    Baseline,
    Change,
    DisciplinaryAction,
    Drift,
    Finding,
    GateDecisionRecord,
    Review,
    User,
    Waiver,
    WaiverApproval,
)
from changegate.db.populations import between


def baselines(start: datetime, end: datetime) -> Select[Any]:
    """Every baseline that existed by the period's end, with its approval (CFG-3)."""
    author, approver = aliased(User), aliased(User)
    return (
        select(
            Baseline.id.label("id"),
            Baseline.name.label("name"),
            Baseline.version.label("version"),
            Baseline.status.label("status"),
            Baseline.source.label("source"),
            Baseline.source_ref.label("source_ref"),
            Baseline.source_sha256.label("source_sha256"),
            Baseline.change_key.label("change_key"),
            author.email.label("author"),
            Baseline.created_at.label("created_at"),
            approver.email.label("approver"),
            Baseline.approved_at.label("approved_at"),
        )
        .join(author, author.id == Baseline.author_id)
        .outerjoin(approver, approver.id == Baseline.approver_id)
        .where(Baseline.created_at < end)
        .order_by(Baseline.id)
    )


def drifts(start: datetime, end: datetime) -> Select[Any]:
    return (
        select(
            Drift.id.label("id"),
            Drift.resource_type.label("resource_type"),
            Drift.resource_id.label("resource_id"),
            Drift.status.label("status"),
            Drift.authorised_by.label("authorised_by"),
            Drift.detected_at.label("detected_at"),
            Drift.due_at.label("due_at"),
            Drift.closed_at.label("closed_at"),
            Drift.remediation_seconds.label("remediation_seconds"),
            Drift.reopened.label("reopened"),
        )
        .where(between(Drift.detected_at, start, end))
        .order_by(Drift.id)
    )


def waivers(start: datetime, end: datetime) -> Select[Any]:
    """Waivers whose life overlaps the period: requested before its end, not closed before
    its start."""
    requester = aliased(User)
    w = Waiver
    return (
        select(
            w.key.label("key"),
            w.title.label("title"),
            requester.email.label("requester"),
            w.status.label("status"),
            w.controls.label("controls"),
            w.scope_kind.label("scope_kind"),
            w.scope_value.label("scope_value"),
            w.round.label("round"),
            w.requested_days.label("requested_days"),
            w.justification.label("justification"),
            w.compensating_controls.label("compensating_controls"),
            w.periods.label("periods"),
            w.created_at.label("created_at"),
            w.active_from.label("active_from"),
            w.expires_at.label("expires_at"),
            w.reviewed_at.label("reviewed_at"),
            w.closed_at.label("closed_at"),
        )
        .join(requester, requester.id == w.requester_id)
        .where(w.created_at < end, or_(w.closed_at.is_(None), w.closed_at >= start))
        .order_by(w.number)
    )


def waiver_approvals(start: datetime, end: datetime) -> Select[Any]:
    approver = aliased(User)
    a = WaiverApproval
    return (
        select(
            a.id.label("id"),
            Waiver.key.label("waiver_key"),
            a.round.label("round"),
            a.role.label("role"),
            a.decision.label("decision"),
            approver.email.label("approver"),
            a.decided_at.label("decided_at"),
            a.comment.label("comment"),
        )
        .join(Waiver, Waiver.id == a.waiver_id)
        .join(approver, approver.id == a.approver_id)
        .where(between(a.decided_at, start, end))
        .order_by(a.id)
    )


def findings(start: datetime, end: datetime) -> Select[Any]:
    """Findings that occurred in the period, with remediation and how many disciplinary
    actions exist (never their details: HR's records stay with HR)."""
    f = Finding
    actions = (
        select(func.count(DisciplinaryAction.id))
        .where(DisciplinaryAction.finding_id == f.id)
        .scalar_subquery()
    )
    return (
        select(
            f.key.label("key"),
            f.control.label("control"),
            f.rule.label("rule"),
            f.subject.label("subject"),
            f.status.label("status"),
            f.waiver_key.label("waiver_key"),
            f.summary.label("summary"),
            f.evidence.label("evidence"),
            f.occurred_at.label("occurred_at"),
            f.first_detected_at.label("first_detected_at"),
            f.reported_at.label("reported_at"),
            f.decided_at.label("decided_at"),
            f.remediation_due_at.label("remediation_due_at"),
            f.remediation_kind.label("remediation_kind"),
            f.remediated_at.label("remediated_at"),
            actions.label("disciplinary_actions"),
        )
        .where(between(f.occurred_at, start, end))
        .order_by(f.number)
    )


def reviews(start: datetime, end: datetime) -> Select[Any]:
    author = aliased(User)
    return (
        select(
            Review.id.label("id"),
            Review.kind.label("kind"),
            Change.key.label("change_key"),
            author.email.label("author"),
            Review.recorded_at.label("recorded_at"),
            Review.summary.label("summary"),
        )
        .join(author, author.id == Review.author_id)
        .outerjoin(Change, Change.id == Review.change_id)
        .where(between(Review.recorded_at, start, end))
        .order_by(Review.id)
    )


def policy_digests(start: datetime, end: datetime) -> Select[Any]:
    """Which policy documents the gate decided under in the period, and how often."""
    g = GateDecisionRecord
    return (
        select(g.policy_digest, func.count())
        .where(between(g.decided_at, start, end))
        .group_by(g.policy_digest)
        .order_by(g.policy_digest)
    )
