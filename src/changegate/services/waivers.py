"""Waivers, the policy's exceptions (EXC-1): request, joint decision, and what they cover.

A waiver is justified, names compensating controls and a duration, and takes effect only when a
CAB member and the ISO (two people, neither the requester) approve the current round. Reviews,
expiry and the quarterly review are in `waiver_reviews`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from changegate.db.changes import Changes
from changegate.db.models import Waiver, WaiverApproval
from changegate.db.waivers import Waivers
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput, Refused
from changegate.domain.users import Role
from changegate.domain.waivers import (
    DECIDABLE,
    Cover,
    ScopeKind,
    WaiverAction,
    WaiverStatus,
    WaiverVote,
    Window,
    check_duration,
    check_may_decide,
    round_complete,
    transition,
)
from changegate.services import notifications
from changegate.services.context import Context

# Auditors and HR change nothing, and a pipeline is no person to justify an exception.
REQUESTERS = (Role.REQUESTER, Role.CAB, Role.ISO, Role.SECURITY_ENGINEER, Role.ADMIN)
DECIDERS = (Role.CAB, Role.ISO)
TITLE_MAX, SCOPE_MAX = 300, 500
# The exceptions process cannot itself be excepted: its findings carry no scope to match anyway.
UNWAIVABLE = frozenset({"EXC-1"})


def request(
    ctx: Context,
    title: str,
    justification: str,
    compensating_controls: str,
    controls: Sequence[str],
    scope_kind: str,
    scope_value: str,
    days: int,
) -> Waiver:
    """A new waiver in `requested`; CAB and the ISO are asked to decide on round 1."""
    requester = ctx.user_with(*REQUESTERS)
    _require_text(title=title, justification=justification, compensating=compensating_controls)
    if len(title.strip()) > TITLE_MAX:
        raise BadInput(f"a waiver title has at most {TITLE_MAX} characters")
    wanted = _known_controls(ctx, controls)
    kind, value = _scope(ctx, scope_kind, scope_value)
    check_duration(days, ctx.policy.waivers.max_days)
    repo = Waivers(ctx.session)
    number = repo.next_number()
    waiver = repo.add(
        Waiver(
            number=number,
            key=f"WVR-{number}",
            status=WaiverStatus.REQUESTED.value,
            requester_id=requester.id,
            title=title.strip(),
            justification=justification.strip(),
            compensating_controls=compensating_controls.strip(),
            controls=wanted,
            scope_kind=kind.value,
            scope_value=value,
            requested_days=days,
            round=1,
            periods=[],
            created_at=ctx.now,
        )
    )
    ctx.record(
        "waiver.requested",
        waiver.key,
        {
            "round": 1,
            "title": waiver.title,
            "justification": waiver.justification,
            "compensating_controls": waiver.compensating_controls,
            "controls": wanted,
            "scope": {"kind": kind.value, "value": value},
            "days": days,
        },
    )
    notify_round(ctx, waiver)
    return waiver


def _require_text(**given: str) -> None:
    for option, text in given.items():
        if not text.strip():
            raise BadInput(
                f"a waiver needs --{option} (EXC-1: justified, with compensating controls)"
            )


def _known_controls(ctx: Context, controls: Sequence[str]) -> list[str]:
    wanted = sorted({c.strip().upper() for c in controls})
    if not wanted:
        raise BadInput("a waiver names at least one --control it is an exception to")
    known = {c.id for c in ctx.policy.controls}
    for control in wanted:
        if control not in known:
            raise BadInput(
                f"unknown control {control!r}; the policy defines {', '.join(sorted(known))}"
            )
        if control in UNWAIVABLE:
            raise Refused("EXC-1", f"{control} (the exceptions process) cannot be waived")
    return wanted


def _scope(ctx: Context, kind_text: str, value: str) -> tuple[ScopeKind, str]:
    try:
        kind = ScopeKind(kind_text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in ScopeKind)
        raise BadInput(f"unknown scope kind {kind_text!r}; scopes are {kinds}") from None
    value = value.strip()
    if not value:
        raise BadInput(f"a {kind.value} scope needs a value, e.g. {kind.value}:NAME")
    if len(value) > SCOPE_MAX:
        raise BadInput(f"a scope value has at most {SCOPE_MAX} characters")
    # Named things must exist: a waiver for a typo would cover nothing and look like it did.
    if kind is ScopeKind.CHANGE:
        value = Changes(ctx.session).get(value).key
    elif kind is ScopeKind.ENVIRONMENT:
        value = ctx.policy.environment(value).name
    return kind, value


def decide(
    ctx: Context, key: str, role: ApprovalRole, decision: Decision, comment: str = ""
) -> Waiver:
    """One CAB or ISO decision on the current round; a complete round grants the window."""
    if decision is Decision.REJECTED and not comment.strip():
        raise BadInput("a rejection needs a --comment saying why")
    repo = Waivers(ctx.session)
    waiver = repo.get(key)
    status = WaiverStatus(waiver.status)
    if status not in DECIDABLE:
        raise Refused("state", f"{waiver.key} is {status.value}; nothing awaits a decision")
    approver = ctx.user()
    votes = votes_of(waiver)
    check_may_decide(
        approver.email, approver.role_names, role, waiver.requester.email, votes, waiver.round
    )
    waiver.approvals.append(
        WaiverApproval(
            round=waiver.round,
            role=role.value,
            decision=decision.value,
            approver_id=approver.id,
            approver=approver,
            comment=comment.strip(),
            decided_at=ctx.now,
        )
    )
    votes.append(WaiverVote(approver.email, role, decision, waiver.round))
    granted: dict[str, Any] | None = None
    if decision is Decision.REJECTED:
        waiver.status = transition(status, WaiverAction.REJECT).value
        if waiver.status == WaiverStatus.CLOSED.value:  # a refused renewal ends the waiver
            waiver.closed_at = ctx.now
            end_windows(waiver, ctx.now)
    elif round_complete(votes, waiver.round):
        granted = _grant(ctx, waiver, status, votes)
    repo.save(waiver)
    ctx.record(
        f"waiver.{decision.value}",
        waiver.key,
        {
            "round": waiver.round,
            "role": role.value,
            "decision": decision.value,
            "comment": comment.strip(),
            "status": waiver.status,
        },
    )
    if granted is not None:
        ctx.record("waiver.activated", waiver.key, granted)
    return waiver


def _grant(
    ctx: Context, waiver: Waiver, status: WaiverStatus, votes: Sequence[WaiverVote]
) -> dict[str, Any]:
    # The policy's maximum may have shrunk since the request: the window never exceeds it.
    days = min(waiver.requested_days, ctx.policy.waivers.max_days)
    start, end = ctx.now, ctx.now + timedelta(days=days)
    waiver.status = transition(status, WaiverAction.APPROVE).value
    waiver.active_from, waiver.expires_at = start, end
    # Each window needs its own review at or before its end; an earlier round's does not count.
    waiver.reviewed_at = None
    period = {"round": waiver.round, "start": stamp(start), "end": stamp(end)}
    waiver.periods = [*waiver.periods, period]  # a new list: JSON columns miss in-place edits
    current = [v for v in votes if v.round == waiver.round and v.decision is Decision.APPROVED]
    return period | {
        "days": days,
        "capped": days < waiver.requested_days,
        "cab": sorted(v.approver for v in current if v.role is ApprovalRole.CAB),
        "iso": sorted(v.approver for v in current if v.role is ApprovalRole.ISO),
    }


def end_windows(waiver: Waiver, at: datetime) -> None:
    """A closed waiver covers nothing after its closure: cut any window still running."""
    waiver.periods = [
        p | {"end": stamp(at)} if parse_stamp(p["end"]) > at else p for p in waiver.periods
    ]


def notify_round(ctx: Context, waiver: Waiver) -> None:
    notifications.enqueue(
        ctx,
        f"waiver.requested:{waiver.key}:{waiver.round}",
        f"{waiver.key} awaits CAB and ISO approval: {waiver.title}",
        f"{waiver.requester.email} asks for an exception to {', '.join(waiver.controls)} "
        f"for {waiver.scope_kind} {waiver.scope_value}, {waiver.requested_days} days "
        f"(round {waiver.round}).\nJustification: {waiver.justification}\n"
        f"Compensating controls: {waiver.compensating_controls}",
        DECIDERS,
    )


def votes_of(waiver: Waiver) -> list[WaiverVote]:
    return [
        WaiverVote(a.approver.email, ApprovalRole(a.role), Decision(a.decision), a.round)
        for a in waiver.approvals
    ]


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def windows_of(waiver: Waiver) -> list[tuple[int, Window]]:
    return [
        (int(p["round"]), Window(parse_stamp(p["start"]), parse_stamp(p["end"])))
        for p in waiver.periods
    ]


def covers(ctx: Context) -> list[Cover]:
    """Every waiver ever granted a window, as the audit engine matches findings against."""
    return covers_of(Waivers(ctx.session).active_covers())


def covers_of(waivers: Sequence[Waiver]) -> list[Cover]:
    return [
        Cover(
            w.key,
            frozenset(w.controls),
            ScopeKind(w.scope_kind),
            w.scope_value,
            tuple(window for _, window in windows_of(w)),
        )
        for w in waivers
        if w.periods
    ]


def get(ctx: Context, key: str) -> Waiver:
    return Waivers(ctx.session).get(key)
