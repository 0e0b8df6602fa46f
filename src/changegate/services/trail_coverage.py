"""What covers each production change event, read from the records as they stand (CM-5).

The same domain rule the audit applies (domain/trail/coverage.py), fed from the database for
the span of the events at hand: `trail ingest` says at once which new changes nothing covers,
`trail list --uncovered` and `trail show` say why; the audit's findings are the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from changegate.db.trail import TrailBasis
from changegate.domain.trail.actors import ActorKind, TrailRules
from changegate.domain.trail.classify import Classified
from changegate.domain.trail.coverage import Cover, Emergency, PipelineRun, by_change, covered
from changegate.services.context import Context


def basis(
    ctx: Context, events: Sequence[Classified], rules: TrailRules
) -> tuple[tuple[PipelineRun, ...], tuple[Emergency, ...]]:
    """The deployments and emergencies that could cover `events` (their span, widened by the
    policy's tolerances; deployments to their environments only: a run covers an event in its
    own environment, domain/trail/coverage.py)."""
    times = [e.at for e in events if e.at is not None]
    if not times:
        return (), ()
    slack = max(rules.pipeline_tolerance, rules.emergency_window)
    start, end = min(times) - slack, max(times) + slack
    repo = TrailBasis(ctx.session)
    keys = [e.actor.change for e in events if e.actor.kind is ActorKind.PIPELINE and e.actor.change]
    places = {e.environment for e in events}
    where = None if None in places else {p for p in places if p is not None}
    runs = tuple(PipelineRun(*row) for row in repo.runs(keys, start, end, where)) if keys else ()
    emergencies = tuple(Emergency(*row) for row in repo.emergencies(start, end))
    return runs, emergencies


def covers(
    ctx: Context, events: Sequence[Classified], rules: TrailRules, now: datetime
) -> list[Cover | None]:
    """For each event (a production change that needs a cover), its cover or None."""
    runs, emergencies = basis(ctx, events, rules)
    mine = by_change(runs)
    return [
        covered(
            e.actor, e.at, e.environment, mine.get(e.actor.change or "", ()), emergencies,
            rules, now,
        )
        if e.at is not None
        else None
        for e in events
    ]  # fmt: skip
