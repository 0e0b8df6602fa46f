"""One change's whole record for the web app's change page, and the filtered change list.

Shapes: `ChangeRecordOut` (the change, each version with what it changed, gate decisions with
their reasons, test runs, deployments, findings, and the ledger's timeline of the change);
`search` answers a `Page[ChangeSummaryOut]`. Raises NotFound for an unknown key, BadInput for
an unknown period or a bad page window.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from changegate.db.change_pages import ChangePages, Search
from changegate.db.changes import Changes
from changegate.db.pipeline import Pipeline
from changegate.domain.periods import quarter_bounds
from changegate.services.context import Context
from changegate.services.views import audits, pipeline
from changegate.services.views.audits import FindingOut
from changegate.services.views.changes import ChangeOut, ChangeSummaryOut, detail, summary
from changegate.services.views.common import Instant, Out, Page, check_window
from changegate.services.views.pipeline import DeploymentOut, GateDecisionOut, TestRunOut

SHOWN = 50


class FieldChangeOut(Out):
    field: str
    before: str
    after: str


class VersionOut(Out):
    version: int
    hash: str
    created_at: Instant
    changed: list[FieldChangeOut]  # against the version before it; empty for version 1


class TimelineOut(Out):
    seq: int
    at: Instant
    actor: str
    action: str


class ChangeRecordOut(Out):
    change: ChangeOut
    versions: list[VersionOut]
    gate_decisions: list[GateDecisionOut]
    test_runs: list[TestRunOut]
    deployments: list[DeploymentOut]
    findings: list[FindingOut]
    timeline: list[TimelineOut]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChangeOut]:
    return [
        FieldChangeOut(field=name, before=_text(before.get(name)), after=_text(after.get(name)))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def record(ctx: Context, key: str) -> ChangeRecordOut:
    change = Changes(ctx.session).get(key)
    pages = ChangePages(ctx.session)
    runs = Pipeline(ctx.session)
    versions: list[VersionOut] = []
    previous: dict[str, Any] | None = None
    for v in pages.versions(change):
        changed = _diff(previous, v.fields) if previous is not None else []
        versions.append(
            VersionOut(version=v.version, hash=v.hash, created_at=v.created_at, changed=changed)
        )
        previous = v.fields
    return ChangeRecordOut(
        change=detail(ctx, change),
        versions=versions,
        gate_decisions=[pipeline.decision(d) for d in pages.gate_decisions(change, SHOWN)],
        test_runs=[pipeline.testrun(r) for r in runs.test_runs(change, SHOWN, 0).rows],
        deployments=[pipeline.deployment(d) for d in runs.deployments(change, SHOWN, 0).rows],
        findings=audits.findings(ctx, list(pages.findings(change.key, SHOWN))),
        timeline=[
            TimelineOut(seq=r.seq, at=r.at, actor=r.actor, action=r.action)
            for r in pages.timeline(change.key)
        ],
    )


def search(ctx: Context, s: Search, period: str, limit: int, offset: int) -> Page[ChangeSummaryOut]:
    """`period` is a quarter ("2026-Q3") or empty."""
    check_window(limit, offset)
    if period:
        start, end = quarter_bounds(period)
        s = replace(s, start=start, end=end)
    found = ChangePages(ctx.session).search(s, limit, offset)
    return Page.of([summary(c) for c in found.rows], found.total, limit, offset)
