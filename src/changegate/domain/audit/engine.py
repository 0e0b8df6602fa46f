"""The audit engine: every rule over a period's facts, filtered, de-duplicated and waiver-marked.

Same facts in, same results out, whatever order the records were loaded in: that is what lets an
auditor re-perform the controls from the evidence package and compare digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Final

from changegate.domain.audit import rules_annual as annual
from changegate.domain.audit import rules_changes as changes
from changegate.domain.audit import rules_config as config
from changegate.domain.audit import rules_governance as governance
from changegate.domain.audit import rules_identity as identity
from changegate.domain.audit import rules_plan as plan
from changegate.domain.audit import rules_trail as trail
from changegate.domain.audit.facts import AuditFacts, Draft, Result
from changegate.domain.waivers import covering

Rule = Callable[[AuditFacts], list[Draft]]

# VIO-1 audits the stored findings of the other rules, so it runs on its own, after them.
VIOLATIONS: Final = governance.VIO

RULES: Final[tuple[tuple[str, Rule], ...]] = (
    ("CM-1", changes.incomplete_request),
    ("CM-1", plan.outside_declared_scope),
    ("CM-2", changes.deployed_before_approval),
    ("CM-2", changes.self_approval),
    ("CM-2", plan.outside_window),
    ("CM-3", changes.emergency_overdue),
    ("CM-4", changes.no_staging_evidence),
    ("CM-5", changes.non_pipeline_deployment),
    ("CM-5", changes.implemented_by_hand),
    ("CM-5", trail.unauthorised_aws_change),
    ("CM-6", governance.metrics_review_missing),
    ("CFG-1", config.no_baseline),
    ("CFG-2", config.unauthorised_drift),
    ("CFG-3", config.baseline_verification_missing),
    ("CFG-4", config.drift_overdue),
    ("CFG-5", annual.config_review_missing),
    ("EXC-1", governance.expired_not_reviewed),
    ("EXC-1", governance.single_party_approval),
    ("EXC-1", governance.waiver_review_missing),
    (annual.POLICY_REVIEW, annual.policy_review_missing),
    (identity.IDENTITY, identity.unauthenticated_decision),
    (VIOLATIONS, governance.not_reported),
    (VIOLATIONS, governance.remediation_overdue),
)


def evaluate(facts: AuditFacts) -> list[Result]:
    """Every control except VIO-1, over the period's records."""
    return _settle(facts, _run(facts, [rule for control, rule in RULES if control != VIOLATIONS]))


def evaluate_violations(facts: AuditFacts) -> list[Result]:
    """VIO-1 over `facts.findings` (the stored findings, including the ones just recorded)."""
    return _settle(facts, _run(facts, [rule for control, rule in RULES if control == VIOLATIONS]))


def digest(results: Iterable[Result]) -> str:
    """One hash of what was found and what suppressed it, to compare two runs at a glance."""
    lines = sorted(f"{r.draft.fingerprint}|{r.waiver or ''}" for r in results)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _run(facts: AuditFacts, rules: Iterable[Rule]) -> list[Draft]:
    return [draft for rule in rules for draft in rule(facts)]


def _settle(facts: AuditFacts, drafts: Iterable[Draft]) -> list[Result]:
    since = facts.settings.effective_from
    inside = [
        d
        for d in drafts
        if facts.period.contains(d.occurred_at) and (since is None or d.occurred_at >= since)
    ]
    # Sorting before de-duplicating makes the survivor of a duplicate independent of input order.
    inside.sort(key=lambda d: (d.occurred_at, d.fingerprint, d.summary, d.evidence))
    unique: dict[str, Draft] = {}
    for d in inside:
        unique.setdefault(d.fingerprint, d)
    # A covered finding is kept with its waiver's key: the auditor sees what the waiver hid.
    return [
        Result(d, covering(facts.covers, d.control, d.attributes, d.occurred_at))
        for d in unique.values()
    ]
