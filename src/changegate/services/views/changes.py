"""Read models of change requests: the summary in lists, the full record, what is overdue."""

from __future__ import annotations

from typing import Any

from changegate.db.changes import Changes
from changegate.db.code_reviews import CodeReviews
from changegate.db.models import Approval, Change, Review
from changegate.domain.changes import ChangeStatus
from changegate.services.approvals import current_tally
from changegate.services.context import Context
from changegate.services.lifecycle import OverdueChange, list_overdue
from changegate.services.views.common import Instant, Out, Page, check_window


class ChangeSummaryOut(Out):
    key: str
    title: str
    status: str
    type: str
    risk: str
    version: int
    requester: str
    ticket: str
    created_at: Instant
    updated_at: Instant


class ApprovalOut(Out):
    approver: str
    role: str
    decision: str
    version: int
    counts: bool  # decided on the current version
    comment: str
    retroactive: bool
    at: Instant


class WindowOut(Out):
    start: Instant | None
    end: Instant | None


class DueOut(Out):
    """An emergency's obligations (CM-3): deadlines are the end of a business day in
    `calendar.tz`, stored as the instant that day ends."""

    retro_approval: Instant | None
    pir: Instant | None
    calendar: dict[str, str] | None
    retro_approved_at: Instant | None
    pir_recorded_at: Instant | None


class ReviewNoteOut(Out):
    kind: str
    author: str
    summary: str
    at: Instant


class ChangeOut(ChangeSummaryOut):
    version_hash: str
    scope: str
    impact: str
    rollback_plan: str
    justification: str
    affected_services: list[str]
    environments: list[str]
    customer_impact: str
    expected_downtime_minutes: int
    window: WindowOut
    commit_authors: list[str]
    approvals: list[ApprovalOut]
    awaiting: list[str]
    submitted_at: Instant | None
    approved_at: Instant | None
    implemented_at: Instant | None
    closed_at: Instant | None
    due: DueOut
    reviews: list[ReviewNoteOut]
    code_reviews: list[CodeReviewOut]  # peer review GitHub reported for its pull requests


class OverdueOut(Out):
    key: str
    title: str
    obligation: str
    due_at: Instant
    due_tz: str | None  # the business calendar's zone the deadline was counted in
    requester: str


class CodeReviewOut(Out):
    kind: str  # approved | merged
    repository: str
    pull_request: int
    title: str
    author: str  # GitHub login
    by: str  # who approved, or merged
    commit: str
    at: Instant
    url: str


class PirOut(Out):
    change: str
    review_id: int
    recorded_at: Instant


def _summary_fields(change: Change) -> dict[str, Any]:
    return {
        "key": change.key,
        "title": change.title,
        "status": change.status,
        "type": change.change_type,
        "risk": change.risk,
        "version": change.version,
        "requester": change.requester.email,
        "ticket": change.ticket,
        "created_at": change.created_at,
        "updated_at": change.updated_at,
    }


def summary(change: Change) -> ChangeSummaryOut:
    return ChangeSummaryOut(**_summary_fields(change))


def _approval(a: Approval, version: int) -> ApprovalOut:
    return ApprovalOut(
        approver=a.approver.email,
        role=a.role,
        decision=a.decision,
        version=a.version,
        counts=a.version == version,
        comment=a.comment,
        retroactive=a.retroactive,
        at=a.decided_at,
    )


def _review(r: Review) -> ReviewNoteOut:
    return ReviewNoteOut(kind=r.kind, author=r.author.email, summary=r.summary, at=r.recorded_at)


def detail(ctx: Context, change: Change) -> ChangeOut:
    repo = Changes(ctx.session)
    result = current_tally(ctx, change)
    return ChangeOut(
        **_summary_fields(change),
        version_hash=change.version_hash,
        scope=change.scope,
        impact=change.impact,
        rollback_plan=change.rollback_plan,
        justification=change.justification,
        affected_services=change.affected_services,
        environments=change.environments,
        customer_impact=change.customer_impact,
        expected_downtime_minutes=change.expected_downtime_minutes,
        window=WindowOut(start=change.window_start, end=change.window_end),
        commit_authors=change.commit_authors,
        approvals=[_approval(a, change.version) for a in repo.approvals(change)],
        awaiting=result.missing() if change.status == "submitted" else [],
        submitted_at=change.submitted_at,
        approved_at=change.approved_at,
        implemented_at=change.implemented_at,
        closed_at=change.closed_at,
        due=DueOut(
            retro_approval=change.retro_due_at,
            pir=change.pir_due_at,
            calendar=change.due_calendar,
            retro_approved_at=change.retro_approved_at,
            pir_recorded_at=change.pir_recorded_at,
        ),
        reviews=[_review(r) for r in repo.reviews(change)],
        code_reviews=[
            CodeReviewOut(
                kind=r.kind,
                repository=r.repository,
                pull_request=r.pull_number,
                title=r.title,
                author=r.author_login,
                by=r.actor_login,
                commit=r.commit_sha,
                at=r.at,
                url=r.url,
            )
            for r in CodeReviews(ctx.session).of_change(change.id)
        ],
    )


def overdue_rows(items: list[OverdueChange]) -> list[OverdueOut]:
    return [
        OverdueOut(
            key=o.change.key,
            title=o.change.title,
            obligation=i.obligation,
            due_at=i.due_at,
            due_tz=(o.change.due_calendar or {}).get("tz"),
            requester=o.change.requester.email,
        )
        for o in items
        for i in o.items
    ]


def pir(change_key: str, review: Review) -> PirOut:
    return PirOut(change=change_key, review_id=review.id, recorded_at=review.recorded_at)


def page(
    ctx: Context, status: ChangeStatus | None, limit: int, offset: int
) -> Page[ChangeSummaryOut]:
    check_window(limit, offset)
    found = Changes(ctx.session).page(status, limit, offset)
    return Page.of([summary(c) for c in found.rows], found.total, limit, offset)


def show(ctx: Context, key: str) -> ChangeOut:
    return detail(ctx, Changes(ctx.session).get(key))


def overdue(ctx: Context, limit: int, offset: int) -> Page[OverdueOut]:
    """Every overdue obligation, earliest due first (computed now, so paged in memory)."""
    check_window(limit, offset)
    rows = sorted(overdue_rows(list_overdue(ctx)), key=lambda r: (r.due_at, r.key))
    return Page.of(rows[offset : offset + limit], len(rows), limit, offset)
