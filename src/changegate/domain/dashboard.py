"""The arithmetic of the CM-6 metrics (the quarterly review and the dashboard read the same
numbers): shares, nearest-rank percentiles, ages in buckets, weekly series.

The database does the counting; these functions turn its counts and picked values into the
figures people read, so the same rule is unit-tested by hand and applied to a year of rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

# Finding ages, in clock days: (label, upper bound exclusive; None for the open-ended last).
AGE_BUCKETS: Final[tuple[tuple[str, int | None], ...]] = (
    ("under 1 day", 1),
    ("1-3 days", 3),
    ("3-7 days", 7),
    ("7-30 days", 30),
    ("30 days or more", None),
)
# A waiver "expiring" is active and ends within this many days of the report's instant.
EXPIRING_DAYS: Final = 14
SECONDS_PER_HOUR: Final = 3600.0


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, rounded to one decimal; None when `whole` is 0 (no
    population has no rate, which is not the same as 0 %). ValueError if part > whole or
    either is negative."""
    if part < 0 or whole < 0 or part > whole:
        raise ValueError(f"a share needs 0 <= part <= whole, not {part} of {whole}")
    return None if whole == 0 else round(100.0 * part / whole, 1)


def rank(fraction: float, n: int) -> int:
    """The 0-based index of the nearest-rank percentile among `n` ascending values: the
    smallest value with at least `fraction` of the values at or below it (the median of four
    values is the second). ValueError for n < 1 or a fraction outside (0, 1]."""
    if n < 1 or not 0.0 < fraction <= 1.0:
        raise ValueError(f"a percentile needs n >= 1 and 0 < fraction <= 1, not {n}, {fraction}")
    return max(math.ceil(round(fraction * n, 9)) - 1, 0)


def percentile(ascending: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of values already sorted ascending; None for no values."""
    return ascending[rank(fraction, len(ascending))] if ascending else None


def hours(seconds: float | None) -> float | None:
    """Seconds as hours, rounded to two decimals (36 s of precision is plenty for a review)."""
    return None if seconds is None else round(seconds / SECONDS_PER_HOUR, 2)


def per_week(count: int, start: datetime, end: datetime) -> float:
    """How many per 7 days of the half-open period [start, end), rounded to two decimals."""
    days = (end - start).total_seconds() / 86400.0
    if days <= 0:
        raise ValueError("a period must end after it starts")
    return round(count * 7.0 / days, 2)


def age_bucket(age: timedelta) -> str:
    """The bucket label of an age (negative ages, from clock skew, count as the first)."""
    for label, upper in AGE_BUCKETS:
        if upper is None or age < timedelta(days=upper):
            return label
    raise AssertionError("the last bucket is open-ended")


def bucket_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Every bucket in order, zero where nothing fell (a chart wants the empty bars too)."""
    return {label: int(counts.get(label, 0)) for label, _ in AGE_BUCKETS}


def week_of(day: date) -> str:
    """The ISO week of a day, "2026-W27" (the year is the ISO year: 2026-12-31 is 2026-W53)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks(start: datetime, end: datetime) -> list[str]:
    """The ISO weeks (UTC) that the half-open period [start, end) touches, in order."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    out: list[str] = []
    day = first - timedelta(days=first.weekday())
    while day <= last:
        out.append(week_of(day))
        day += timedelta(days=7)
    return out


def weekly(per_day: Mapping[date, int], start: datetime, end: datetime) -> dict[str, int]:
    """Daily counts (UTC days) folded into the period's ISO weeks, every week present.
    ValueError for a day outside the period."""
    out = dict.fromkeys(weeks(start, end), 0)
    for day, n in per_day.items():
        label = week_of(day)
        if label not in out:
            raise ValueError(f"{day} is outside the period")
        out[label] += int(n)
    return out
