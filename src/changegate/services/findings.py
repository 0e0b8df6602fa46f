"""Findings (violations): the ISO confirms or dismisses; remediation is due in 3 business days.

Disciplinary actions are HR's record. The ISO and HR see them; everyone else who may read
findings (auditors included) learns only how many exist. The ledger therefore carries a digest
of the details, not the details: the ledger is what auditors export.
"""

from __future__ import annotations

from changegate.db.findings import Findings
from changegate.db.models import DisciplinaryAction, Finding
from changegate.db.users import Users
from changegate.domain.errors import BadInput, Refused
from changegate.domain.findings import (
    DisciplinaryKind,
    FindingAction,
    FindingStatus,
    RemediationKind,
    transition,
)
from changegate.domain.users import Role
from changegate.services.context import Context
from changegate.services.ledger_replay_detective import details_sha256
from changegate.services.notifications import enqueue

SEE_DISCIPLINE = frozenset({Role.ISO.value, Role.HR.value})
ACTIONABLE = (FindingStatus.CONFIRMED, FindingStatus.CLOSED)


def _move(ctx: Context, finding: Finding, action: FindingAction) -> None:
    finding.status = transition(FindingStatus(finding.status), action).value
    Findings(ctx.session).save(finding)


def confirm(ctx: Context, key: str, comment: str = "") -> Finding:
    iso = ctx.user_with(Role.ISO)
    finding = Findings(ctx.session).get(key)
    calendar = ctx.policy.calendar(ctx.now)
    finding.decided_by_id, finding.decided_at = iso.id, ctx.now
    finding.remediation_due_at = calendar.add_business_days(
        ctx.now, ctx.policy.violations.remediation_business_days
    )
    finding.due_calendar = calendar.describe()
    _move(ctx, finding, FindingAction.CONFIRM)
    ctx.record(
        "finding.confirmed",
        finding.key,
        {
            "comment": comment,
            "remediation_due_at": finding.remediation_due_at.isoformat(),
            "calendar": finding.due_calendar,
        },
    )
    enqueue(
        ctx,
        f"finding.confirmed:{finding.key}",
        f"[changegate] {finding.key} confirmed: remediate by "
        f"{finding.remediation_due_at.isoformat()}",
        f"{finding.summary}\n\nConfirmed by {iso.email}. {comment}".strip(),
        (Role.ISO, Role.HR),
    )
    return finding


def dismiss(ctx: Context, key: str, reason: str) -> Finding:
    iso = ctx.user_with(Role.ISO)
    if not reason.strip():
        raise BadInput("dismissing a finding needs a --reason")
    finding = Findings(ctx.session).get(key)
    finding.decided_by_id, finding.decided_at = iso.id, ctx.now
    finding.dismissal_reason = reason.strip()
    _move(ctx, finding, FindingAction.DISMISS)
    ctx.record("finding.dismissed", finding.key, {"reason": finding.dismissal_reason})
    return finding


def remediate(ctx: Context, key: str, kind: RemediationKind, description: str) -> Finding:
    person = ctx.user_with(Role.ISO, Role.SECURITY_ENGINEER)
    if not description.strip():
        raise BadInput("say what was done: --description")
    finding = Findings(ctx.session).get(key)
    finding.remediation_kind, finding.remediation = kind.value, description.strip()
    finding.remediated_by_id, finding.remediated_at = person.id, ctx.now
    _move(ctx, finding, FindingAction.REMEDIATE)
    due = finding.remediation_due_at
    ctx.record(
        "finding.remediated",
        finding.key,
        {
            "kind": kind.value,
            "description": finding.remediation,
            "on_time": due is None or ctx.now <= due,
        },
    )
    return finding


def discipline(
    ctx: Context, key: str, person_email: str, action: DisciplinaryKind, notes: str
) -> DisciplinaryAction:
    hr = ctx.user_with(Role.HR)
    repo = Findings(ctx.session)
    finding = repo.get(key)
    if FindingStatus(finding.status) not in ACTIONABLE:
        raise Refused(
            "VIO-1",
            f"{finding.key} is {finding.status}; disciplinary action follows a confirmed finding",
        )
    person = Users(ctx.session).get(person_email)
    if person.id == hr.id:
        raise Refused("SoD", f"{hr.email} may not record disciplinary action against themself")
    row = repo.add_action(
        DisciplinaryAction(
            finding_id=finding.id,
            person_id=person.id,
            action=action.value,
            notes=notes.strip(),
            recorded_by_id=hr.id,
            recorded_at=ctx.now,
        )
    )
    ctx.record(
        "finding.disciplinary_action",
        finding.key,
        {
            "action_id": row.id,
            "details_sha256": details_sha256(person.email, action.value, row.notes),
        },
    )
    return row


# Findings name people: only the roles that act on or oversee them may read them.
READERS = (Role.ISO, Role.HR, Role.AUDITOR, Role.ADMIN, Role.CAB, Role.SECURITY_ENGINEER)
