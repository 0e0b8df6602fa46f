"""Deadlines: N business days on a holiday calendar, and elapsed clock hours.

"N business days" is the end of the Nth business day after the trigger day, in the policy time
zone: the trigger day itself never counts, whatever time it happened (DESIGN.md section 6).
A deadline is stored as the exclusive instant the day ends (local midnight), in UTC.

A business day is what the country's calendar says it is: a weekday of its working week
(Friday and Saturday are Israel's weekend) that is no holiday, or a weekend day the country
made a working day (China and Russia move days to bridge holidays). This is the rule of the
`holidays` package's `is_working_day`, so the two agree day for day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from changegate.domain.errors import BadInput

SATURDAY, SUNDAY = 5, 6
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    label: str = "weekends only"
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})  # date.weekday() numbers
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked

    def is_business_day(self, day: date) -> bool:
        if day.weekday() in self.weekend:
            return day in self.workdays
        return day not in self.holidays

    def local_day(self, instant: datetime) -> date:
        return require_aware(instant).astimezone(ZoneInfo(self.tz)).date()

    def nth_business_day(self, trigger_day: date, n: int) -> date:
        if n < 1:
            raise BadInput(f"business days must be at least 1, got {n}")
        day, counted = trigger_day, 0
        while counted < n:
            day += timedelta(days=1)
            counted += self.is_business_day(day)
        return day

    def add_business_days(self, trigger: datetime, n: int) -> datetime:
        """The instant (UTC) the Nth business day after the trigger's local day ends."""
        last_day = self.nth_business_day(self.local_day(trigger), n)
        end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.tz))
        return end.astimezone(UTC)

    def after_period(self, end: datetime, n: int) -> datetime:
        """N business days after a period that ends (exclusive) at `end`: counted from the
        period's last day, not from the midnight that ends it."""
        return self.add_business_days(end - timedelta(microseconds=1), n)

    def describe(self) -> dict[str, str]:
        """What an auditor needs to re-compute a deadline later."""
        weekend = ",".join(DAY_NAMES[d] for d in sorted(self.weekend))
        return {"tz": self.tz, "calendar": self.label, "weekend": weekend}


def add_clock_hours(trigger: datetime, hours: int) -> datetime:
    return require_aware(trigger).astimezone(UTC) + timedelta(hours=hours)


def require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise BadInput(f"time {instant.isoformat()} has no time zone")
    return instant


def calendar_from(
    tz: str,
    holidays: Iterable[date],
    label: str,
    weekend: Iterable[int] = (SATURDAY, SUNDAY),
    workdays: Iterable[date] = (),
) -> BusinessCalendar:
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError) as exc:
        raise BadInput(f"unknown time zone {tz!r}") from exc
    days = frozenset(weekend)
    if not days <= set(range(7)) or len(days) > 3:
        raise BadInput(
            f"a weekend is up to three of the days 0 (Mon) to 6 (Sun), not {sorted(days)}"
        )
    return BusinessCalendar(
        tz=tz, holidays=frozenset(holidays), label=label, weekend=days, workdays=frozenset(workdays)
    )
