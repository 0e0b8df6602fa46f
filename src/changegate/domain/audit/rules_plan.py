"""Audit rules for what the request declared: where a change may deploy (CM-1) and when (CM-2).

The gate refuses a deployment outside the declared environments or the planned window; these
rules re-perform both checks over every recorded deployment, with the same functions, so a
deployment recorded without asking the gate (or before the policy said so) still shows up.
"""

from __future__ import annotations

from changegate.domain.audit.facts import AuditFacts, Draft
from changegate.domain.audit.rules_changes import deployment_draft
from changegate.domain.gate import scope_reason, window_reason


def outside_declared_scope(facts: AuditFacts) -> list[Draft]:
    """CM-1: every deployment goes to an environment its request declares (rollbacks too: a
    rollback to an undeclared environment is still a change there)."""
    out = []
    for d in facts.deployments:
        change = facts.changes.get(d.change_key)
        if change is None:
            continue  # CM-1's incomplete-request rule names deployments of unknown changes
        reason = scope_reason(change.key, change.environments, d.environment, d.production)
        if not reason.ok:
            summary = f"deployment #{d.id} went to {d.environment}: {reason.message}"
            out.append(deployment_draft(d, "CM-1", "outside-declared-scope", summary))
    return out


def outside_window(facts: AuditFacts) -> list[Draft]:
    """CM-2: a deployment the policy puts under approval starts within the approved plan's
    window, give or take the policy's tolerances; rollbacks restore what was approved."""
    out = []
    for d in facts.deployments:
        change = facts.changes.get(d.change_key)
        if change is None or d.kind != "deploy" or not d.needs_approval:
            continue
        emergency = change.change_type == "emergency"
        rule = facts.settings.window_rule
        reason = window_reason(change.key, emergency, change.window, d.started_at, rule)
        if not reason.ok:
            summary = f"deployment #{d.id} to {d.environment} started {d.started_at.isoformat()}"
            out.append(
                deployment_draft(d, "CM-2", "outside-window", f"{summary}: {reason.message}")
            )
    return out
