"""The change calendar: planned windows and freezes by week, and the conflicts between them.

Windows are half-open, [start, end): one that ends at 10:00 and one that starts at 10:00 touch
and do not overlap (a change may follow another on the same service). Weeks are ISO weeks in
the policy's time zone, so a window on Monday 00:30 in Berlin is in Monday's week even though
it is still Sunday in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from changegate.domain.calendar import require_aware
from changegate.domain.errors import BadInput
from changegate.domain.gate import Freeze

# At most a quarter and a bit per request: the page shows weeks, not years.
MAX_RANGE_DAYS: Final = 92


@dataclass(frozen=True)
class Planned:
    """A change's planned window (both ends known)."""

    key: str
    start: datetime
    end: datetime
    services: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()


class ConflictKind(StrEnum):
    OVERLAP = "overlap"  # two changes on one service at once
    FREEZE = "freeze"  # a change inside a freeze window of one of its environments


@dataclass(frozen=True)
class Conflict:
    """`change` collides with `other` (a change key, or a freeze's name) on `on` (the shared
    service, or the frozen environment) during [start, end)."""

    kind: ConflictKind
    change: str
    other: str
    on: str
    start: datetime
    end: datetime


def overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    """Half-open intervals overlap when each starts before the other ends (touching is not)."""
    return a[0] < b[1] and b[0] < a[1]


def span(
    first: date, last: date, tz: str, max_days: int = MAX_RANGE_DAYS
) -> tuple[datetime, datetime]:
    """The local days `first`..`last` (both included) in zone `tz` as a UTC-comparable
    half-open range. BadInput if `last` is before `first` or the range exceeds `max_days`."""
    if last < first:
        raise BadInput(f"the range ends ({last}) before it starts ({first})")
    days = (last - first).days + 1
    if days > max_days:
        raise BadInput(f"a calendar covers at most {max_days} days, not {days}")
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), tzinfo=zone)
    return start, datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)


def weeks_of(start: datetime, end: datetime, tz: str) -> list[tuple[str, date]]:
    """(ISO week label, its local Monday) for every week [start, end) touches in zone `tz`."""
    zone = ZoneInfo(tz)
    first = require_aware(start).astimezone(zone).date()
    last = (require_aware(end).astimezone(zone) - timedelta(microseconds=1)).date()
    monday = first - timedelta(days=first.weekday())
    out: list[tuple[str, date]] = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        out.append((f"{year}-W{week:02d}", monday))
        monday += timedelta(days=7)
    return out


def week_bounds(monday: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(monday, time(0), tzinfo=zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone)


def service_conflicts(windows: Sequence[Planned]) -> list[Conflict]:
    """Every pair of changes sharing a service whose windows overlap, once per pair and
    service (the earlier-starting change first). A sweep per service: sort by start, and a
    window can only collide with those still open when it starts."""
    by_service: dict[str, list[Planned]] = {}
    for w in windows:
        for service in sorted(set(w.services)):
            by_service.setdefault(service, []).append(w)
    out: list[Conflict] = []
    for service, group in sorted(by_service.items()):
        active: list[Planned] = []
        for w in sorted(group, key=lambda p: (p.start, p.end, p.key)):
            active = [a for a in active if a.end > w.start]
            out.extend(
                Conflict(ConflictKind.OVERLAP, a.key, w.key, service, w.start, min(a.end, w.end))
                for a in active
            )
            active.append(w)
    return out


def freeze_conflicts(windows: Iterable[Planned], freezes: Sequence[Freeze]) -> list[Conflict]:
    """Every change whose window overlaps a freeze covering one of its environments, once per
    change, freeze and environment."""
    out: list[Conflict] = []
    for w in windows:
        for f in freezes:
            if not overlap((w.start, w.end), (f.start, f.end)):
                continue
            out.extend(
                Conflict(
                    ConflictKind.FREEZE,
                    w.key,
                    f.name,
                    env,
                    max(w.start, f.start),
                    min(w.end, f.end),
                )
                for env in sorted(set(w.environments) & set(f.environments))
            )
    return out
