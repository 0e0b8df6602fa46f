"""Audit rules for oversight: quarterly reviews (CM-6), waivers (EXC-1) and violations (VIO-1).

`quarters_without_review` is shared with CFG-3: all three signed quarterly reviews fall due the
same way (N business days after the quarter's last day) and differ only in kind and signer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from changegate.domain import wording
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.audit.facts import (
    AuditFacts,
    Draft,
    FindingFact,
    Period,
    WaiverFact,
    overdue,
)
from changegate.domain.waivers import WaiverVote, round_complete

VIO = "VIO-1"


# --- quarterly signed reviews (CM-6, CFG-3, EXC-1) ---------------------------------------------


def quarters(period: Period, tz: str) -> Iterator[tuple[str, datetime]]:
    """(name, exclusive local end) of each quarter overlapping [period.start - 1 year, end).

    Quarters are the policy time zone's, so a quarter's last day is its last local day. Looking a
    year back is generous: a review deadline trails its quarter by a few business days only.
    """
    zone = ZoneInfo(tz)
    first = (period.start - timedelta(days=366)).astimezone(zone)
    year, q = first.year, (first.month - 1) // 3  # q counts from 0
    while datetime(year, 3 * q + 1, 1, tzinfo=zone) < period.end:
        next_year, next_q = (year, q + 1) if q < 3 else (year + 1, 0)
        yield f"{year}-Q{q + 1}", datetime(next_year, 3 * next_q + 1, 1, tzinfo=zone)
        year, q = next_year, next_q


def quarters_without_review(
    facts: AuditFacts, control: str, slug: str, kind: str, role: str, what: str
) -> list[Draft]:
    """Each quarter whose review deadline has passed with no `kind` review signed by `role`."""
    spans = quarters(facts.period, facts.settings.calendar.tz)
    return periods_without_review(facts, spans, "quarter", control, slug, kind, role, what)


def periods_without_review(
    facts: AuditFacts,
    spans: Iterable[tuple[str, datetime]],
    unit: str,
    control: str,
    slug: str,
    kind: str,
    role: str,
    what: str,
) -> list[Draft]:
    """Each (name, end) of `spans` (quarters or years) whose review deadline has passed with no
    `kind` review signed by `role` in time; a span that ended before `effective_from` is not
    audited. The subject is "<unit>:<name>"."""
    settings, out = facts.settings, []
    for name, end in spans:
        deadline = settings.calendar.after_period(end, settings.quarterly_review_business_days)
        since = settings.effective_from
        if deadline > facts.period.as_of or (since is not None and end <= since):
            continue
        reviews = [r for r in facts.reviews if r.kind == kind and r.period == name]
        if any(role in r.author_roles and r.recorded_at <= deadline for r in reviews):
            continue
        # Late or wrongly signed reviews are evidence too: they show why they do not count.
        others = tuple(f"review:{r.id}" for r in sorted(reviews, key=lambda r: r.id))
        out.append(
            Draft(
                control=control,
                rule=f"{control}.{slug}",
                subject=f"{unit}:{name}",
                summary=f"{name}: no {what} signed by a holder of the {role} role by "
                f"{facts.due(deadline)}",
                evidence=(f"{unit}:{name}", *others),
                occurred_at=deadline,
            )
        )
    return out


def metrics_review_missing(facts: AuditFacts) -> list[Draft]:
    """CM-6: the ISO reviews change-management metrics every quarter."""
    return quarters_without_review(
        facts,
        "CM-6",
        "quarterly-review-missing",
        "quarterly_metrics",
        "iso",
        "review of change metrics",
    )


def waiver_review_missing(facts: AuditFacts) -> list[Draft]:
    """EXC-1: exception approvals and denials are reviewed quarterly."""
    return quarters_without_review(
        facts, "EXC-1", "quarterly-review-missing", "waiver_quarterly", "iso", "review of waivers"
    )


# --- EXC-1 -------------------------------------------------------------------------------------


def _waiver_draft(
    w: WaiverFact, slug: str, subject: str, summary: str, evidence: tuple[str, ...], at: datetime
) -> Draft:
    # No scope attributes: an exception to the exceptions process cannot itself be waived.
    return Draft(
        control="EXC-1",
        rule=f"EXC-1.{slug}",
        subject=subject,
        summary=summary,
        evidence=(f"waiver:{w.key}", *evidence),
        occurred_at=at,
    )


def expired_not_reviewed(facts: AuditFacts) -> list[Draft]:
    """EXC-1: a waiver is reviewed at or before its expiry."""
    out = []
    for w in facts.waivers:
        due = w.expires_at
        if due is None or not overdue(due, w.reviewed_at, facts.period.as_of):
            continue
        state = "never reviewed" if w.reviewed_at is None else "reviewed only after it expired"
        out.append(
            _waiver_draft(
                w,
                "expired-not-reviewed",
                f"waiver:{w.key}",
                f"{w.key} expired {wording.when(due)} and was {state}",
                (),
                due,
            )
        )
    return out


def _round_votes(w: WaiverFact, round_: int, by: datetime) -> list[WaiverVote]:
    # The requester's own approval never makes a round joint, whatever role they hold.
    roles = {r.value for r in ApprovalRole}
    return [
        WaiverVote(a.approver, ApprovalRole(a.role), Decision.APPROVED, a.round)
        for a in w.approvals
        if a.round == round_
        and a.decision == Decision.APPROVED.value
        and a.decided_at <= by
        and a.role in roles
        and a.approver != w.requester
    ]


def single_party_approval(facts: AuditFacts) -> list[Draft]:
    """EXC-1: each granted window rests on a CAB and an ISO approval by two other people."""
    out = []
    for w in facts.waivers:
        for round_, start, _end in w.periods:
            if round_complete(_round_votes(w, round_, start), round_):
                continue
            ids = sorted(a.id for a in w.approvals if a.round == round_)
            out.append(
                _waiver_draft(
                    w,
                    "single-party-approval",
                    f"waiver:{w.key}#{round_}",
                    f"{w.key} round {round_} took effect {wording.when(start)} without joint "
                    "approval by a CAB member and the ISO (two people, neither the requester)",
                    tuple(f"approval:{i}" for i in ids),
                    start,
                )
            )
    return out


# --- VIO-1 -------------------------------------------------------------------------------------


def _audited(f: FindingFact) -> bool:
    # VIO-1 never audits its own findings: a late report of a late report would never end. A
    # suppressed finding is covered by a waiver, so there is no violation to report or remediate.
    return f.control != VIO and not f.rule.startswith(f"{VIO}.") and f.status != "suppressed"


def not_reported(facts: AuditFacts) -> list[Draft]:
    """VIO-1: a violation reaches both the ISO and HR within `report_hours` of detection."""
    out = []
    for f in filter(_audited, facts.findings):
        deadline = f.first_detected_at + timedelta(hours=facts.settings.report_hours)
        if deadline > facts.period.as_of:
            continue
        reached = {
            d.recipient_role
            for d in f.deliveries
            if d.delivered_at is not None and d.delivered_at <= deadline
        }
        missing = [r for r in ("iso", "hr") if r not in reached]
        if not missing:
            continue
        out.append(
            Draft(
                control=VIO,
                rule=f"{VIO}.not-reported",
                subject=f"finding:{f.key}",
                summary=f"{f.key} ({f.rule}) was not reported to {' and '.join(missing)} by "
                f"{facts.due(deadline)}",
                evidence=(f"finding:{f.key}",),
                occurred_at=deadline,
            )
        )
    return out


def remediation_overdue(facts: AuditFacts) -> list[Draft]:
    """VIO-1: a confirmed violation is remediated within its business-day clock."""
    out = []
    for f in filter(_audited, facts.findings):
        due = f.remediation_due_at
        if due is None or not overdue(due, f.remediated_at, facts.period.as_of):
            continue
        state = "not remediated" if f.remediated_at is None else "remediated late"
        out.append(
            Draft(
                control=VIO,
                rule=f"{VIO}.remediation-overdue",
                subject=f"finding:{f.key}",
                summary=f"{f.key} ({f.rule}) was due for remediation {facts.due(due)}: {state}",
                evidence=(f"finding:{f.key}",),
                occurred_at=due,
            )
        )
    return out
