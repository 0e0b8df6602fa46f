"""Audit rules for configuration management: CFG-2, CFG-3 and CFG-4 (DESIGN.md section 3)."""

from __future__ import annotations

from changegate.domain import wording
from changegate.domain.audit.facts import AuditFacts, Draft, DriftFact, overdue
from changegate.domain.audit.rules_governance import quarters_without_review


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
