"""The change calendar: planned windows and the policy's freeze windows by ISO week (in the
policy's time zone), with the conflicts a CAB wants to see before it approves: two changes on
one service at once, and a change planned inside a freeze of one of its environments.

`calendar(ctx, first, last)` is what `GET /api/v1/calendar?from=&to=` and the web page show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Row

from changegate.db.planning import Planning
from changegate.domain.errors import BadInput
from changegate.domain.gate import Freeze
from changegate.domain.planning import (
    Conflict,
    Planned,
    freeze_conflicts,
    overlap,
    service_conflicts,
    span,
    week_bounds,
    weeks_of,
)
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out

DEFAULT_DAYS: Final = 28
MIN_YEAR, MAX_YEAR = 1970, 9998


class PlannedChangeOut(Out):
    """A change's planned window [start, end). `conflicts` names what it collides with: other
    change keys and freeze names."""

    key: str
    title: str
    status: str
    type: str
    risk: str
    services: list[str]
    environments: list[str]
    start: Instant
    end: Instant
    conflicts: list[str]


class FreezeOut(Out):
    """A freeze window from the policy (`gate.freeze_windows`): the gate denies deployments
    to `environments` during [start, end)."""

    name: str
    start: Instant
    end: Instant
    environments: list[str]


class ConflictOut(Out):
    """`kind` "overlap": changes `change` and `other` share service `on` during [start, end);
    "freeze": change `change` is planned inside freeze `other` for environment `on`."""

    kind: str
    change: str
    other: str
    on: str
    start: Instant
    end: Instant


class WeekOut(Out):
    """One ISO week in the policy's time zone: from `monday` (local) for seven days, and the
    windows and freezes that touch it (a window spanning weeks is in each)."""

    week: str
    monday: date
    changes: list[PlannedChangeOut]
    freezes: list[FreezeOut]


class CalendarOut(Out):
    """The local days `first`..`last` (both included) in `timezone`: every week they touch,
    each change once in `changes`, and every conflict once in `conflicts`."""

    first: date
    last: date
    timezone: str
    weeks: list[WeekOut]
    changes: list[PlannedChangeOut]
    freezes: list[FreezeOut]
    conflicts: list[ConflictOut]


def days(ctx: Context, first: date | None, last: date | None) -> tuple[date, date]:
    """The range asked for, defaults filled: from this week's Monday (in the policy's zone)
    for four weeks. BadInput for a day outside 1970-9998 (the rest `calendar` checks)."""
    if first is None:
        today = ctx.now.astimezone(ZoneInfo(ctx.policy.timezone)).date()
        first = today - timedelta(days=today.weekday())
    last = last or first + timedelta(days=DEFAULT_DAYS - 1)
    if first.year < MIN_YEAR or last.year > MAX_YEAR:
        raise BadInput(f"the calendar covers days from {MIN_YEAR} to {MAX_YEAR}")
    return first, last


def calendar(ctx: Context, first: date, last: date) -> CalendarOut:
    """The calendar of local days `first`..`last`; BadInput if `last` is before `first` or
    the range is longer than `domain.planning.MAX_RANGE_DAYS`. Everyone reads it."""
    tz = ctx.policy.timezone
    start, end = span(first, last, tz)
    rows = Planning(ctx.session).windows(start, end)
    planned = [_planned(r) for r in rows]
    freezes = [f for f in ctx.policy.freezes() if overlap((f.start, f.end), (start, end))]
    conflicts = service_conflicts(planned) + freeze_conflicts(planned, freezes)
    named: dict[str, set[str]] = {}
    for c in conflicts:
        named.setdefault(c.change, set()).add(c.other)
        named.setdefault(c.other, set()).add(c.change)
    changes = [_change(r, sorted(named.get(r.key, ()))) for r in rows]
    frozen = [_freeze(f) for f in freezes]
    weeks = []
    for label, monday in weeks_of(start, end, tz):
        bounds = week_bounds(monday, tz)
        weeks.append(
            WeekOut(
                week=label,
                monday=monday,
                changes=[c for c in changes if overlap((c.start, c.end), bounds)],
                freezes=[f for f in frozen if overlap((f.start, f.end), bounds)],
            )
        )
    return CalendarOut(
        first=first,
        last=last,
        timezone=tz,
        weeks=weeks,
        changes=changes,
        freezes=frozen,
        conflicts=[_conflict(c) for c in conflicts],
    )


def _planned(row: Row[Any]) -> Planned:
    return Planned(
        row.key,
        row.window_start,
        row.window_end,
        tuple(row.affected_services or ()),
        tuple(row.environments or ()),
    )


def _change(row: Row[Any], conflicts: list[str]) -> PlannedChangeOut:
    return PlannedChangeOut(
        key=row.key,
        title=row.title,
        status=row.status,
        type=row.change_type,
        risk=row.risk,
        services=list(row.affected_services or []),
        environments=list(row.environments or []),
        start=row.window_start,
        end=row.window_end,
        conflicts=conflicts,
    )


def _freeze(f: Freeze) -> FreezeOut:
    return FreezeOut(name=f.name, start=f.start, end=f.end, environments=list(f.environments))


def _conflict(c: Conflict) -> ConflictOut:
    return ConflictOut(
        kind=c.kind.value, change=c.change, other=c.other, on=c.on, start=c.start, end=c.end
    )
