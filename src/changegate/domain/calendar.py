"""Deadlines: N business days on a holiday calendar, and elapsed clock hours.

"N business days" is the end of the Nth business day after the trigger day, in the policy time
zone: the trigger day itself never counts, whatever time it happened (DESIGN.md section 6).
A deadline is stored as the exclusive instant the day ends (local midnight), in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from changegate.domain.errors import BadInput

SATURDAY = 5


@dataclass(frozen=True)
class BusinessCalendar:
    tz: str
    holidays: frozenset[date] = field(default_factory=frozenset)
    label: str = "weekends only"

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and day not in self.holidays

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

    def describe(self) -> dict[str, str]:
        """What an auditor needs to re-compute a deadline later."""
        return {"tz": self.tz, "calendar": self.label}


def add_clock_hours(trigger: datetime, hours: int) -> datetime:
    return require_aware(trigger).astimezone(UTC) + timedelta(hours=hours)


def require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise BadInput(f"time {instant.isoformat()} has no time zone")
    return instant


def calendar_from(tz: str, holidays: Iterable[date], label: str) -> BusinessCalendar:
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError) as exc:
        raise BadInput(f"unknown time zone {tz!r}") from exc
    return BusinessCalendar(tz=tz, holidays=frozenset(holidays), label=label)
