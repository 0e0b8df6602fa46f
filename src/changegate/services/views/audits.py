"""Read models of the detective half: audit runs, findings, notifications, discipline."""

from __future__ import annotations

from typing import Any

from changegate.db.findings import Findings
from changegate.db.models import AuditRun, DisciplinaryAction, Finding, Notification
from changegate.db.outbox import Outbox
from changegate.db.users import Users
from changegate.domain.audit.facts import Result
from changegate.domain.findings import FindingStatus
from changegate.domain.users import Role
from changegate.services.context import Context
from changegate.services.findings import READERS
from changegate.services.views.common import Instant, Out, Page, check_window

# Disciplinary details are HR's record: the ISO and HR read them; other readers see a count.
SEE_DISCIPLINE = frozenset({Role.ISO.value, Role.HR.value})


class AuditCountsOut(Out):
    findings: int
    suppressed: int
    raised: int
    by_control: dict[str, int]


class AuditRunOut(Out):
    id: int | None  # None: a preview, stored nowhere
    period: str
    as_of: Instant
    started_at: Instant | None
    actor: str | None
    digest: str
    counts: AuditCountsOut
    rules: list[str]
    not_checked: list[str]  # rules with nothing to check for want of configuration, and why
    # What the run's inputs lack, e.g. no passing `ledger verify --state` covering its as_of.
    warnings: list[str] = []
    stored: bool


class AuditFindingOut(Out):
    """A finding as one audit run raised it (stored, or only previewed)."""

    key: str | None
    control: str
    rule: str
    subject: str
    summary: str
    evidence: list[str]
    status: str
    waiver: str | None
    occurred_at: Instant
    fingerprint: str


class AuditOut(Out):
    run: AuditRunOut
    findings: list[AuditFindingOut]


class NotificationOut(Out):
    channel: str
    recipient: str
    role: str | None
    status: str
    delivered_at: Instant | None


class DisciplinaryActionOut(Out):
    id: int
    person: str
    action: str
    notes: str
    recorded_by: str
    recorded_at: Instant


class FindingOut(Out):
    key: str
    control: str
    rule: str
    subject: str
    summary: str
    status: str
    waiver: str | None
    evidence: list[str]
    occurred_at: Instant
    first_detected_at: Instant
    last_detected_at: Instant
    reported_at: Instant | None
    decided_by: str | None
    decided_at: Instant | None
    dismissal_reason: str | None
    remediation_due_at: Instant | None
    due_calendar: dict[str, str] | None
    remediation: str | None
    remediation_kind: str | None
    remediated_by: str | None
    remediated_at: Instant | None


class FindingDetailOut(FindingOut):
    attributes: dict[str, Any]
    notifications: list[NotificationOut]
    disciplinary_action_count: int
    # Only for the ISO and HR; None for every other reader.
    disciplinary_actions: list[DisciplinaryActionOut] | None


class DisciplineOut(Out):
    finding: str
    action_id: int


def run(row: AuditRun) -> AuditRunOut:
    return AuditRunOut(
        id=row.id,
        period=row.period,
        as_of=row.as_of,
        started_at=row.started_at,
        actor=row.actor,
        digest=row.digest,
        counts=AuditCountsOut.model_validate(row.counts),
        rules=row.rules,
        not_checked=row.not_checked or [],
        warnings=list(row.counts.get("warnings") or []),
        stored=True,
    )


def stored_finding(f: Finding) -> AuditFindingOut:
    return AuditFindingOut(
        key=f.key,
        control=f.control,
        rule=f.rule,
        subject=f.subject,
        summary=f.summary,
        evidence=f.evidence,
        status=f.status,
        waiver=f.waiver_key,
        occurred_at=f.occurred_at,
        fingerprint=f.fingerprint,
    )


def draft_finding(result: Result, stored: Finding | None) -> AuditFindingOut:
    d = result.draft
    return AuditFindingOut(
        key=stored.key if stored else None,
        control=d.control,
        rule=d.rule,
        subject=d.subject,
        summary=d.summary,
        evidence=list(d.evidence),
        status="suppressed" if result.waiver else "open",
        waiver=result.waiver,
        occurred_at=d.occurred_at,
        fingerprint=d.fingerprint,
    )


def _people(ctx: Context, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    return {u.id: u.email for u in Users(ctx.session).by_ids(wanted)} if wanted else {}


def _finding_fields(f: Finding, people: dict[int, str]) -> dict[str, Any]:
    return {
        "key": f.key,
        "control": f.control,
        "rule": f.rule,
        "subject": f.subject,
        "summary": f.summary,
        "status": f.status,
        "waiver": f.waiver_key,
        "evidence": f.evidence,
        "occurred_at": f.occurred_at,
        "first_detected_at": f.first_detected_at,
        "last_detected_at": f.last_detected_at,
        "reported_at": f.reported_at,
        "decided_by": people.get(f.decided_by_id or 0),
        "decided_at": f.decided_at,
        "dismissal_reason": f.dismissal_reason,
        "remediation_due_at": f.remediation_due_at,
        "due_calendar": f.due_calendar,
        "remediation": f.remediation,
        "remediation_kind": f.remediation_kind,
        "remediated_by": people.get(f.remediated_by_id or 0),
        "remediated_at": f.remediated_at,
    }


def finding(ctx: Context, f: Finding) -> FindingOut:
    people = _people(ctx, {f.decided_by_id, f.remediated_by_id})
    return FindingOut(**_finding_fields(f, people))


def findings(ctx: Context, rows: list[Finding]) -> list[FindingOut]:
    people = _people(ctx, {i for f in rows for i in (f.decided_by_id, f.remediated_by_id)})
    return [FindingOut(**_finding_fields(f, people)) for f in rows]


def finding_detail(ctx: Context, f: Finding, reader_roles: frozenset[str]) -> FindingDetailOut:
    people = _people(ctx, {f.decided_by_id, f.remediated_by_id})
    actions = Findings(ctx.session).actions(f)
    reports = Outbox(ctx.session).for_event(f"finding.reported:{f.key}")
    return FindingDetailOut(
        **_finding_fields(f, people),
        attributes=f.attributes,
        notifications=[_notification(n) for n in reports],
        disciplinary_action_count=len(actions),
        disciplinary_actions=[_action(a) for a in actions]
        if reader_roles & SEE_DISCIPLINE
        else None,
    )


def _notification(n: Notification) -> NotificationOut:
    return NotificationOut(
        channel=n.channel,
        recipient=n.recipient,
        role=n.recipient_role,
        status=n.status,
        delivered_at=n.delivered_at,
    )


def _action(a: DisciplinaryAction) -> DisciplinaryActionOut:
    return DisciplinaryActionOut(
        id=a.id,
        person=a.person.email,
        action=a.action,
        notes=a.notes,
        recorded_by=a.recorded_by.email,
        recorded_at=a.recorded_at,
    )


def finding_page(
    ctx: Context, status: FindingStatus | None, control: str | None, limit: int, offset: int
) -> Page[FindingOut]:
    """Newest first. Findings name people: only the roles that act on or oversee them read."""
    ctx.user_with(*READERS)
    check_window(limit, offset)
    found = Findings(ctx.session).page(status.value if status else None, control, limit, offset)
    return Page.of(findings(ctx, list(found.rows)), found.total, limit, offset)


def show_finding(ctx: Context, key: str) -> FindingDetailOut:
    reader = ctx.user_with(*READERS)
    return finding_detail(ctx, Findings(ctx.session).get(key), frozenset(reader.role_names))


def runs(ctx: Context, limit: int, offset: int) -> Page[AuditRunOut]:
    ctx.user_with(*READERS)
    check_window(limit, offset)
    found = Findings(ctx.session).runs(limit, offset)
    return Page.of([run(r) for r in found.rows], found.total, limit, offset)
