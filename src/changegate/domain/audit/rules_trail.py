"""Audit rule for changes made in production outside the pipeline: CM-5 over CloudTrail.

The built-in policy's CM-5 detective control: "mutating production CloudTrail events by humans
not covered by an emergency change or waiver". A person's change from the console or a laptop,
or a pipeline's change no approved deployment explains, is a finding; the engine marks the
waiver that covers the principal, the resource or the environment, as for every finding.
"""

from __future__ import annotations

from changegate.domain.audit.facts import AuditFacts, Draft
from changegate.domain.trail.classify import needs_cover
from changegate.domain.trail.coverage import AwsChange, attributes, by_change, covered

CONTROL = "CM-5"
RULE = f"{CONTROL}.unauthorised-aws-change"


def subject(event_id: str) -> str:
    return f"aws-event:{event_id}"


def unauthorised_aws_change(facts: AuditFacts) -> list[Draft]:
    """CM-5: a production change event that no deployment or emergency covers."""
    t = facts.trail
    runs, now = by_change(t.runs), facts.period.as_of
    out = []
    for change in t.changes:
        found = change.found
        if found.at is None or not needs_cover(found):
            continue
        mine = runs.get(found.actor.change or "", ())
        if covered(found.actor, found.at, found.environment, mine, t.emergencies, t.rules, now):
            continue
        out.append(_draft(change))
    return out


def _draft(change: AwsChange) -> Draft:
    found = change.found
    assert found.at is not None
    who = found.actor
    named = f"{who.name} ({who.principal})" if who.name != who.principal else who.principal
    on = f" on {', '.join(change.resources)}" if change.resources else ""
    return Draft(
        control=CONTROL,
        rule=RULE,
        subject=subject(change.event_id),
        summary=f"{change.name} ({change.source}){on} by {who.kind.value} {named} at "
        f"{found.at.isoformat()} in {found.environment} account {found.account}: no approved "
        "deployment, emergency change or waiver covers it",
        evidence=(subject(change.event_id),),
        occurred_at=found.at,
        attributes=attributes(change),
    )
