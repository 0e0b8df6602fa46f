"""`changegate drift ...`: baselines compared with what runs (CFG-2, CFG-4)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from changegate import bootstrap
from changegate.cli import transport
from changegate.cli.formats import deadline, duration, plural, when
from changegate.cli.options import DEFAULT, As, Json, Limit, Offset, group, page_query
from changegate.cli.output import Column, emit_json, footer, record, say, table
from changegate.domain.drift import DriftStatus
from changegate.services import drift
from changegate.services.views import configuration as views
from changegate.services.views.common import Page
from changegate.services.views.configuration import (
    DriftOut,
    ScanOut,
)

drift_app = group("Drift from the baselines (CFG-2, CFG-4).")


@drift_app.command("scan")
def scan(
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Compare every resource, not only those observed or re-baselined "
            "since the last scan (after a change to the comparison rules).",
        ),
    ] = False,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Compare approved baselines with the latest observations (incremental by default)."""
    out = transport.write(
        "drift scan",
        as_,
        ScanOut,
        lambda ctx: views.scan(drift.scan(ctx, bootstrap.vocabulary(), full)),
        lambda r: r.call("POST", "/api/v1/drift/scan", params={"full": full}),
    )
    if json_out:
        emit_json(out)
        return
    say(
        f"checked {plural(out.checked, 'resource')} ({out.compared} compared, "
        f"{out.unobserved} never observed): {len(out.opened)} new drift, "
        f"{len(out.reopened)} reopened, {len(out.closed)} remediated, "
        f"{out.still_open} still open; "
        f"{plural(out.unverifiable, 'declared property', 'declared properties')} "
        f"of the {out.compared} compared unverifiable (see `baseline show`)"
    )


@drift_app.command("list")
def list_drifts(
    status: Annotated[DriftStatus | None, typer.Option(case_sensitive=False)] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Drift, oldest first."""
    query = page_query(limit, offset, status=status)
    page = transport.read(
        "drift list",
        as_,
        Page[DriftOut],
        lambda ctx: views.drifts(ctx, status, limit, offset),
        lambda r: r.call("GET", "/api/v1/drift", params=query),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Drift ({page.total})",
        ["id", "status", "type", "resource", "authorised by", "detected", "due"],
        [
            [
                d.id,
                d.status,
                d.resource_type,
                d.resource_id,
                d.authorised_by,
                when(d.detected_at),
                when(d.due_at),
            ]
            for d in page.items
        ],
        empty="no drift",
    )
    footer(len(page.items), page.total, offset)


@drift_app.command("show")
def show_drift(
    drift_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """One drift with its property-level differences."""
    out = transport.read(
        "drift show",
        as_,
        DriftOut,
        lambda ctx: views.show_drift(ctx, drift_id),
        lambda r: r.call("GET", f"/api/v1/drift/{drift_id}"),
    )
    if json_out:
        emit_json(out)
        return
    record(
        f"drift {out.id}  {out.resource_type} {out.resource_id}",
        [
            ("status", out.status),
            ("authorised by", out.authorised_by or "no change"),
            ("detected", when(out.detected_at)),
            ("due", deadline(out.due_at, None)),
            ("closed", when(out.closed_at)),
            ("time to remediate", duration(out.remediation_seconds)),
            ("reopened", plural(out.reopened, "time") if out.reopened else None),
        ],
    )
    say("")
    table(
        "Differences",
        ["path", Column("baseline", wrap=True), Column("observed", wrap=True)],
        [[d.path, json.dumps(d.expected), json.dumps(d.actual)] for d in out.differences],
        empty="differences: none",
    )
