"""CloudTrail events read back (CM-5): the list, one event and what covers it, a change's events.

Events name people, so the roles that may read findings may read them (findings.READERS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from changegate.db.models import TrailEvent
from changegate.db.trail import Filters, TrailEvents
from changegate.domain.audit.rules_trail import CONTROL, RULE, subject
from changegate.domain.trail.classify import Classified, classify, needs_cover
from changegate.domain.trail.coverage import AwsChange, attributes
from changegate.domain.trail.records import resources
from changegate.domain.waivers import Cover, covering
from changegate.integrations.cloudtrail_catalogue import catalogue
from changegate.services import trail_coverage
from changegate.services import waivers as waivers_service
from changegate.services.context import Context
from changegate.services.findings import READERS
from changegate.services.views import trail as views
from changegate.services.views.common import Page, check_window
from changegate.services.views.trail import CoverOut, TrailEventDetailOut, TrailEventOut

NO_ACCOUNTS = (
    "the policy maps no AWS account to an environment (cloudtrail.accounts or "
    "environments[].aws_accounts), so no event is a production change"
)


def notice(ctx: Context) -> str | None:
    """What `trail ingest` says when the policy makes every event a non-production one."""
    return None if ctx.policy.trail_rules().accounts else NO_ACCOUNTS


def page(
    ctx: Context, filters: Filters, uncovered: bool, limit: int, offset: int
) -> Page[TrailEventOut]:
    """Events in time order. `uncovered`: only production changes that need a cover and have
    none as the records stand now (judged here, so that page is cut after judging)."""
    ctx.user_with(*READERS)
    check_window(limit, offset)
    repo = TrailEvents(ctx.session)
    if not uncovered:
        found = repo.page(filters, limit, offset)
        return Page.of([views.event(r) for r in found.rows], found.total, limit, offset)
    rules = ctx.policy.trail_rules()
    narrowed = Filters(
        filters.principal, filters.change, filters.since, filters.until, "change", rules.production
    )
    rows = list(_uncovered(ctx, repo.scan(narrowed)))
    return Page.of(
        [views.event(r) for r in rows[offset : offset + limit]], len(rows), limit, offset
    )


def _uncovered(ctx: Context, rows: Iterator[TrailEvent]) -> Iterator[TrailEvent]:
    rules = ctx.policy.trail_rules()
    batch: list[tuple[TrailEvent, Classified]] = []
    for row in rows:
        found = classify(json.loads(row.raw), catalogue(), rules)
        if needs_cover(found):
            batch.append((row, found))
    judged = trail_coverage.covers(ctx, [f for _, f in batch], rules, ctx.now)
    waivers = waivers_service.covers(ctx)
    for (row, found), cover in zip(batch, judged, strict=True):
        if cover is None and _waiver(waivers, found, json.loads(row.raw)) is None:
            yield row


def _waiver(waivers: list[Cover], found: Classified, record: dict[str, object]) -> str | None:
    if found.at is None:
        return None
    change = AwsChange("", "", "", found, tuple(r.arn for r in resources(record)))
    return covering(waivers, CONTROL, attributes(change), found.at)


def show(ctx: Context, event_id: str) -> TrailEventDetailOut:
    """One event: the record as stored, its classification under today's policy, and what
    covers it (a deployment, an emergency, a waiver) or the finding the audit raised."""
    ctx.user_with(*READERS)
    repo = TrailEvents(ctx.session)
    row = repo.get(event_id)
    record = json.loads(row.raw)
    rules = ctx.policy.trail_rules()
    found = classify(record, catalogue(), rules)
    cover: CoverOut | None = None
    if needs_cover(found):
        [judged] = trail_coverage.covers(ctx, [found], rules, ctx.now)
        if judged is not None:
            cover = CoverOut(by=judged.by, change=judged.change, evidence=judged.evidence)
        else:
            waiver = _waiver(waivers_service.covers(ctx), found, record)
            if waiver:
                cover = CoverOut(by="waiver", change=None, evidence=f"waiver:{waiver}")
    listed = views.event(row)
    return TrailEventDetailOut(
        **listed.model_dump(),
        source=row.source,
        position=row.position,
        resources=[r.arn for r in resources(record)],
        needs_cover=needs_cover(found),
        cover=cover,
        finding=repo.finding(f"{RULE}|{subject(row.event_id)}"),
        record=record,
    )
