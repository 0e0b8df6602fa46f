"""After a waiver is granted: review at or before expiry, expiry, the ISO's quarterly review.

EXC-1: each exception is "reviewed at or before expiration" and exception approvals and denials
are "reviewed quarterly". A late review is still recorded (and flagged): refusing it would leave
an expired waiver unreviewed for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from changegate.db.models import Review, Waiver
from changegate.db.waivers import Waivers
from changegate.domain.errors import BadInput, Refused
from changegate.domain.users import Role
from changegate.domain.waivers import WaiverAction, WaiverStatus, check_duration, transition
from changegate.services import notifications, reviews
from changegate.services.context import Context
from changegate.services.waivers import end_windows, notify_round, stamp, windows_of

WAIVER_QUARTERLY = "waiver_quarterly"
REVIEWABLE = frozenset({WaiverStatus.ACTIVE, WaiverStatus.EXPIRED})


class Outcome(StrEnum):
    RENEW = "renew"
    CLOSE = "close"


def review(ctx: Context, key: str, outcome: str, notes: str, days: int | None = None) -> Waiver:
    """CAB or ISO, not the requester: renew (a new round needing both approvals) or close."""
    chosen = _outcome(outcome)
    if not notes.strip():
        raise BadInput("a waiver review needs --notes saying what was reviewed")
    if days is not None and chosen is Outcome.CLOSE:
        raise BadInput("--days applies to a renewal only")
    repo = Waivers(ctx.session)
    waiver = repo.get(key)
    reviewer = ctx.user_with(Role.CAB, Role.ISO)
    if reviewer.id == waiver.requester_id:
        raise Refused("EXC-1", f"{reviewer.email} requested {waiver.key} and may not review it")
    status = WaiverStatus(waiver.status)
    if status not in REVIEWABLE:
        raise Refused(
            "state", f"{waiver.key} is {status.value}; only an active or expired waiver is reviewed"
        )
    late = waiver.expires_at is not None and ctx.now > waiver.expires_at
    waiver.reviewed_at = ctx.now
    if chosen is Outcome.RENEW:
        renewed_days = waiver.requested_days if days is None else days
        check_duration(renewed_days, ctx.policy.waivers.max_days)
        # The running window still holds until it ends; the new one needs a fresh round.
        waiver.status = transition(status, WaiverAction.RENEW).value
        waiver.round += 1
        waiver.requested_days = renewed_days
    else:
        waiver.status = transition(status, WaiverAction.CLOSE).value
        waiver.closed_at = ctx.now
        end_windows(waiver, ctx.now)
    repo.save(waiver)
    ctx.record(
        "waiver.reviewed",
        waiver.key,
        {
            "outcome": chosen.value,
            "notes": notes.strip(),
            "late": late,
            "expires_at": stamp(waiver.expires_at) if waiver.expires_at else None,
            "round": waiver.round,
            "days": waiver.requested_days,
            "status": waiver.status,
        },
    )
    if chosen is Outcome.RENEW:
        notify_round(ctx, waiver)
    return waiver


def _outcome(text: str) -> Outcome:
    try:
        return Outcome(text.strip().lower())
    except ValueError:
        raise BadInput(f"a review outcome is renew or close, not {text!r}") from None


def expire_due(ctx: Context) -> int:
    """Every active waiver past its end becomes expired; CAB and the ISO are asked to review.

    Safe for two workers at once: each expiry is a compare-and-set, so the slower worker's
    transaction conflicts, is retried by its entry point, and then finds nothing due.
    """
    repo = Waivers(ctx.session)
    due = list(repo.due_for_expiry(ctx.now))
    for waiver in due:
        waiver.status = transition(WaiverStatus.ACTIVE, WaiverAction.EXPIRE).value
        # Saved before anything else is written, so a lost race leaves no notification behind.
        repo.save(waiver)
        expired_at = stamp(waiver.expires_at) if waiver.expires_at else None
        ctx.record(
            "waiver.expired",
            waiver.key,
            {
                "round": waiver.round,
                "expired_at": expired_at,
                "reviewed": waiver.reviewed_at is not None,
            },
        )
        notifications.enqueue(
            ctx,
            f"waiver.expired:{waiver.key}:{waiver.round}",
            f"{waiver.key} expired: review it (renew or close)",
            f"{waiver.key} ({waiver.title}), an exception to {', '.join(waiver.controls)} for "
            f"{waiver.scope_kind} {waiver.scope_value}, expired at {expired_at}. EXC-1 asks for "
            f"a review at or before expiry: renew it or close it.",
            (Role.CAB, Role.ISO),
        )
    return len(due)


def review_quarter(ctx: Context, quarter: str) -> Review:
    """EXC-1: the ISO's signed quarterly review of waivers requested, decided, in force,
    expired and closed in a quarter that has ended."""
    reviewer = ctx.user_with(Role.ISO)
    name, start, end = reviews.ended_quarter(ctx, quarter, "EXC-1")
    report = quarter_report(Waivers(ctx.session).list(), name, start, end)
    return reviews.sign(
        ctx,
        WAIVER_QUARTERLY,
        reviewer,
        name,
        report,
        "waiver.quarterly_reviewed",
        {"quarter": name, "counts": report["counts"]},
    )


def quarter_report(
    waivers: Sequence[Waiver], name: str, start: datetime, end: datetime
) -> dict[str, Any]:
    def inside(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    report: dict[str, Any] = {
        "quarter": name,
        "start": stamp(start),
        "end": stamp(end),
        "requested": [w.key for w in waivers if inside(w.created_at)],
        "decisions": [
            {
                "key": w.key,
                "round": a.round,
                "role": a.role,
                "decision": a.decision,
                "approver": a.approver.email,
                "decided_at": stamp(a.decided_at),
            }
            for w in waivers
            for a in w.approvals
            if inside(a.decided_at)
        ],
        "active": [
            _in_force(w, start, end)
            for w in waivers
            if any(s < end and start < e for _, s, e in _spans(w))
        ],
        "expired": [x for w in waivers for x in _expiries(w) if inside(x["at"])],
        "closed": [
            {"key": w.key, "closed_at": stamp(w.closed_at)}
            for w in waivers
            if w.closed_at is not None and inside(w.closed_at)
        ],
    }
    for item in report["expired"]:
        item["at"] = stamp(item["at"])
    report["counts"] = {
        k: len(report[k]) for k in ("requested", "decisions", "active", "expired", "closed")
    }
    return report


def _spans(w: Waiver) -> list[tuple[int, datetime, datetime]]:
    return [(round_, window.start, window.end) for round_, window in windows_of(w)]


def _in_force(w: Waiver, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "key": w.key,
        "status": w.status,
        "controls": list(w.controls),
        "scope": {"kind": w.scope_kind, "value": w.scope_value},
        "windows": [
            {"round": r, "start": stamp(s), "end": stamp(e)}
            for r, s, e in _spans(w)
            if s < end and start < e
        ],
    }


def _expiries(w: Waiver) -> list[dict[str, Any]]:
    """Ends of windows that lapsed: not cut short by closure, not continued by a renewal."""
    spans = _spans(w)
    out = []
    for round_, _, ended in spans:
        if w.closed_at is not None and ended >= w.closed_at:
            continue
        if any(s <= ended < e for r, s, e in spans if r != round_):
            continue
        out.append({"key": w.key, "round": round_, "at": ended})
    return out
