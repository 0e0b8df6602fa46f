"""Read models of waivers (the policy's exceptions, EXC-1)."""

from __future__ import annotations

from changegate.db.models import Waiver
from changegate.db.waivers import Waivers
from changegate.domain.waivers import DECIDABLE, WaiverStatus, missing
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window
from changegate.services.waivers import parse_stamp, votes_of


class ScopeOut(Out):
    kind: str
    value: str


class PeriodOut(Out):
    round: int
    start: Instant
    end: Instant


class WaiverDecisionOut(Out):
    role: str
    decision: str
    approver: str
    round: int
    counts: bool  # a decision of the current round
    comment: str
    decided_at: Instant


class WaiverOut(Out):
    key: str
    title: str
    status: str
    requester: str
    controls: list[str]
    scope: ScopeOut
    days: int
    round: int
    justification: str
    compensating_controls: str
    periods: list[PeriodOut]
    created_at: Instant
    active_from: Instant | None
    expires_at: Instant | None
    reviewed_at: Instant | None
    closed_at: Instant | None
    approvals: list[WaiverDecisionOut]
    missing: list[str]


def waiver(w: Waiver) -> WaiverOut:
    votes = votes_of(w)
    awaiting = missing(votes, w.round) if WaiverStatus(w.status) in DECIDABLE else []
    return WaiverOut(
        key=w.key,
        title=w.title,
        status=w.status,
        requester=w.requester.email,
        controls=list(w.controls),
        scope=ScopeOut(kind=w.scope_kind, value=w.scope_value),
        days=w.requested_days,
        round=w.round,
        justification=w.justification,
        compensating_controls=w.compensating_controls,
        periods=[
            PeriodOut(
                round=int(p["round"]), start=parse_stamp(p["start"]), end=parse_stamp(p["end"])
            )
            for p in w.periods
        ],
        created_at=w.created_at,
        active_from=w.active_from,
        expires_at=w.expires_at,
        reviewed_at=w.reviewed_at,
        closed_at=w.closed_at,
        approvals=[
            WaiverDecisionOut(
                role=a.role,
                decision=a.decision,
                approver=a.approver.email,
                round=a.round,
                counts=a.round == w.round,
                comment=a.comment,
                decided_at=a.decided_at,
            )
            for a in w.approvals
        ],
        missing=awaiting,
    )


def page(ctx: Context, status: WaiverStatus | None, limit: int, offset: int) -> Page[WaiverOut]:
    check_window(limit, offset)
    found = Waivers(ctx.session).page(status, limit, offset)
    return Page.of([waiver(w) for w in found.rows], found.total, limit, offset)


def show(ctx: Context, key: str) -> WaiverOut:
    return waiver(Waivers(ctx.session).get(key))
