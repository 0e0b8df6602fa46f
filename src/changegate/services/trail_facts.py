"""Load a period's CloudTrail facts for CM-5 (no rule logic here).

Re-performance: the rule reads the records as stored, re-classified under the policy in force
now (the accounts it maps, the pipeline's roles), not the columns written at ingest.
"""

from __future__ import annotations

import json

from changegate.db.trail import TrailEvents
from changegate.domain.audit.facts import Period
from changegate.domain.trail.classify import classify
from changegate.domain.trail.coverage import AwsChange, TrailFacts
from changegate.domain.trail.records import resources
from changegate.integrations.cloudtrail_catalogue import catalogue
from changegate.services import trail_coverage
from changegate.services.context import Context


def load(ctx: Context, period: Period) -> TrailFacts:
    rules = ctx.policy.trail_rules()
    if not rules.accounts:
        return TrailFacts(rules)
    changes = []
    for row in TrailEvents(ctx.session).changes(period.start, period.end):
        record = json.loads(row.raw)
        found = classify(record, catalogue(), rules)
        if found.production_change:
            named = tuple(r.arn for r in resources(record))
            changes.append(AwsChange(row.event_id, row.event_source, row.event_name, found, named))
    runs, emergencies = trail_coverage.basis(ctx, [c.found for c in changes], rules)
    return TrailFacts(rules, tuple(changes), runs, emergencies)


def not_checked(ctx: Context) -> list[str]:
    """Said in the audit run's record when CM-5 had no AWS account to read."""
    if ctx.policy.trail_rules().accounts:
        return []
    return [
        "CM-5 (CloudTrail): the policy maps no AWS account to an environment "
        "(cloudtrail.accounts), so no CloudTrail event was held to a change"
    ]
