"""What coverage reads from the database for a batch of production change events
(services/trail_coverage.basis): a change's deployments in the events' span, to the events'
own environments only (a run covers an event in its environment, domain/trail/coverage.py),
or to every environment where an event has none. On both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from changegate.bootstrap import App
from changegate.domain.trail.actors import Actor, ActorKind, TrailRules
from changegate.domain.trail.classify import Classified, Kind
from changegate.services import trail_coverage
from changegate.services.context import Context
from tests.builders import T0
from tests.services.test_ledger_state import deployed

__all__ = ["deployed"]  # the fixture: CHG-1 deployed to staging (1) and development (2) at T0

PIPELINE = Actor(
    ActorKind.PIPELINE,
    "AssumedRole",
    "arn:aws:iam::123456789012:role/gha-deployer",
    "chg-1-run-7",
    "chg-1-run-7",
    "CHG-1",
)


def event(environment: str | None) -> Classified:
    return Classified(
        Kind.CHANGE, environment, True, PIPELINE, T0 + timedelta(minutes=1), None, None
    )


@pytest.mark.parametrize(
    ("environments", "runs"),
    [
        (["staging"], [(1, "staging")]),
        (["development"], [(2, "development")]),
        (["staging", "development"], [(1, "staging"), (2, "development")]),
        (["production"], []),
        (["staging", None], [(1, "staging"), (2, "development")]),
    ],
)
def test_the_runs_read_are_those_to_the_events_environments(
    deployed: App, environments: list[str | None], runs: list[tuple[int, str]]
) -> None:
    def read(ctx: Context) -> list[tuple[int, str]]:
        found, _ = trail_coverage.basis(ctx, [event(e) for e in environments], TrailRules())
        return sorted((r.id, r.environment) for r in found)

    assert deployed.run(read, actor="local-admin", at=T0 + timedelta(hours=1)) == runs
