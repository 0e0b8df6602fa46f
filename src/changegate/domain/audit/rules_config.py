"""Audit rules for configuration management: CFG-1 to CFG-4 (DESIGN.md section 3)."""

from __future__ import annotations

from changegate.domain import wording
from changegate.domain.audit.facts import AuditFacts, Draft, DriftFact, overdue
from changegate.domain.audit.rules_governance import quarters_without_review


def no_baseline(facts: AuditFacts) -> list[Draft]:
    """CFG-1: configuration is defined in IaC. A resource observed in a production account that
    no baseline in force declares (by id, or by the name a template gives it) is a finding."""
    out = []
    for o in facts.observed:
        names = {o.resource_id, o.resource_name} - {None}
        if o.deleted or any((o.resource_type, n) in facts.declared for n in names):
            continue
        out.append(
            Draft(
                control="CFG-1",
                rule="CFG-1.no-baseline",
                subject=f"resource:{o.resource_type}:{o.resource_id}",
                summary=f"{o.resource_type} {o.resource_id} runs in production account "
                f"{o.account_id} ({o.region or 'global'}) and no approved baseline declares it",
                evidence=(f"observation:{o.observation_id}",),
                occurred_at=o.first_seen,
                attributes={"resource": o.resource_id, "account": o.account_id},
            )
        )
    return out


def unauthorised(d: DriftFact) -> bool:
    # CFG-2 asks for CAB and ISO authorisation; drift explained by an approved change has it.
    return d.authorised_by is None and d.status != "authorised"


def unauthorised_drift(facts: AuditFacts) -> list[Draft]:
    """CFG-2: a configuration change not linked to an approved change."""
    return [
        Draft(
            control="CFG-2",
            rule="CFG-2.unauthorised-drift",
            subject=f"drift:{d.id}",
            summary=f"drift #{d.id} on {d.resource_type} {d.resource_id} is not linked to "
            "an approved change",
            evidence=(f"drift:{d.id}",),
            occurred_at=d.detected_at,
            attributes={"resource": d.resource_id},
        )
        for d in facts.drifts
        if unauthorised(d)
    ]


def baseline_verification_missing(facts: AuditFacts) -> list[Draft]:
    """CFG-3: the Security Engineer verifies the baselines against drift every quarter."""
    return quarters_without_review(
        facts,
        "CFG-3",
        "quarterly-verification-missing",
        "baseline_verification",
        "security_engineer",
        "baseline verification",
    )


def drift_overdue(facts: AuditFacts) -> list[Draft]:
    """CFG-4: unauthorised drift closes (a passing re-check) within 48 clock hours."""
    out = []
    for d in facts.drifts:
        due = d.due_at
        if due is None or not unauthorised(d) or not overdue(due, d.closed_at, facts.period.as_of):
            continue
        state = (
            "still open" if d.closed_at is None else f"closed late ({wording.when(d.closed_at)})"
        )
        out.append(
            Draft(
                control="CFG-4",
                rule="CFG-4.drift-overdue",
                subject=f"drift:{d.id}",
                summary=f"drift #{d.id} on {d.resource_type} {d.resource_id} was due "
                f"{wording.when(due)}: {state}",
                evidence=(f"drift:{d.id}",),
                occurred_at=due,
                attributes={"resource": d.resource_id},
            )
        )
    return out
