"""`changegate calendar`: planned change windows and freezes by week, with their conflicts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from changegate.cli import transport
from changegate.cli.formats import when
from changegate.cli.options import As, Json, single
from changegate.cli.output import Column, emit_json, say, table
from changegate.domain.errors import BadInput
from changegate.services.views.calendar import (
    CalendarOut,
    FreezeOut,
    PlannedChangeOut,
    calendar,
    days,
)

app = single("Planned change windows and freeze windows by week, with their conflicts.")
First = Annotated[
    str | None,
    typer.Option("--from", metavar="YYYY-MM-DD", help="First day (default: this week's Monday)."),
]
Last = Annotated[
    str | None,
    typer.Option("--to", metavar="YYYY-MM-DD", help="Last day, included (default: 4 weeks on)."),
]


@app.command("calendar")
def show(first: First = None, last: Last = None, as_: As = None, json_out: Json = False) -> None:
    """Changes' planned windows and the policy's freezes by ISO week (at most 92 days), and
    the conflicts: two changes on one service at once, a change inside a freeze."""
    start, end = _day(first, "--from"), _day(last, "--to")
    params = {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}
    out = transport.read(
        "calendar",
        as_,
        CalendarOut,
        lambda ctx: calendar(ctx, *days(ctx, start, end)),
        lambda r: r.call("GET", "/api/v1/calendar", params=params),
    )
    if json_out:
        emit_json(out)
        return
    for week in out.weeks:
        table(
            f"{week.week} (from {week.monday}, {out.timezone})",
            ["change", Column("title", wrap=True), "services", "start", "end", "conflicts"],
            [_change(c) for c in week.changes] + [_freeze(f) for f in week.freezes],
            f"{week.week}: nothing planned",
        )
        say("")
    say(f"{len(out.conflicts)} conflict(s) from {out.first} to {out.last}")


def _change(c: PlannedChangeOut) -> tuple[str | None, ...]:
    services, conflicts = ", ".join(c.services), ", ".join(c.conflicts)
    return (c.key, c.title, services, when(c.start), when(c.end), conflicts)


def _freeze(f: FreezeOut) -> tuple[str | None, ...]:
    return (f.name, "freeze", ", ".join(f.environments), when(f.start), when(f.end), "")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{option}: not a day: {text[:40]!r} (expected YYYY-MM-DD)") from None
