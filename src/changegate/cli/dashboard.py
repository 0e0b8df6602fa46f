"""`changegate dashboard`: a quarter's CM-6 metrics, the figures its quarterly review signs."""

from __future__ import annotations

from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.options import As, Json, single
from changegate.cli.output import Column, emit_json, say, table
from changegate.domain.periods import quarter_bounds, quarter_of
from changegate.services.views.dashboard import DashboardOut, Tile, dashboard

app = single("A quarter's change-management metrics (CM-6) and the four DORA keys.")
Quarter = Annotated[
    str | None,
    typer.Option(metavar="QUARTER", help="A quarter, e.g. 2026-Q3 (default: this one)."),
]
UNITS = {"percent": " %", "hours": " h", "per_week": " / week", "count": ""}


@app.command("dashboard")
def show(quarter: Quarter = None, as_: As = None, json_out: Json = False) -> None:
    """The quarter's metrics as the quarterly review signs them: approvals and tests before
    deploy, emergencies, drift, findings, waivers, DORA keys."""
    name = quarter_of(quarter_bounds(quarter)[0]) if quarter is not None else None
    out = transport.read(
        "dashboard",
        as_,
        DashboardOut,
        lambda ctx: dashboard(ctx, name or quarter_of(ctx.now)),
        lambda r: r.call("GET", "/api/v1/dashboard", params={"quarter": name} if name else {}),
    )
    if json_out:
        emit_json(out)
        return
    m = out.metrics
    table(
        f"CM-6 metrics, {out.quarter} (as of {m.as_of})",
        ["metric", "value", "target"],
        [(t.label, _value(t), _target(t)) for t in out.tiles],
        "no metrics",
    )
    say("")
    table(
        "Production deployments by ISO week",
        ["week", "deployments", "failures"],
        [(p.week, p.deployments, p.failures) for p in out.deployments_by_week],
        "no weeks",
    )
    say("")
    table(
        "Findings",
        [Column("control or age"), "count"],
        [(p.label, p.count) for p in out.findings_by_control + out.findings_open_by_age],
        "no findings",
    )


def _value(tile: Tile) -> str:
    if tile.value is None:
        return "-"
    shown = f"{tile.value:g}" if tile.unit != "count" else str(int(tile.value))
    return shown + UNITS[tile.unit]


def _target(tile: Tile) -> str:
    return "" if tile.target is None else f"{tile.target:g}{UNITS[tile.unit]}"
