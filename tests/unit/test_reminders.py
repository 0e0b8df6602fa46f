"""When a reminder falls due and what it says, against dates worked out on a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from changegate.domain.calendar import BusinessCalendar
from changegate.domain.reminders import (
    Obligation,
    awaiting,
    business_days_before,
    due_reminder,
    link,
    remind_at,
    reminder,
)

THANKSGIVING = date(2026, 11, 26)
UTC_CAL = BusinessCalendar("UTC", frozenset({THANKSGIVING}))
NEW_YORK = BusinessCalendar("America/New_York", frozenset({THANKSGIVING}))


def utc(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# (deadline: the exclusive end of its last day, business days before, reminder due from)
CASES = [
    (utc(12, 4), 1, utc(12, 2)),  # due end of Thu 3 Dec: remind from Wed
    (utc(12, 4), 0, utc(12, 3)),  # on the last day itself
    (utc(12, 8), 1, utc(12, 4)),  # due end of Mon 7 Dec: the Friday before
    (utc(11, 28), 1, utc(11, 25)),  # due end of Fri 27 Nov: Thanksgiving skipped, Wednesday
    (utc(11, 28), 2, utc(11, 24)),
    (utc(12, 4), 5, utc(11, 25)),  # Thu 3 Dec, five business days back over Thanksgiving
]


def test_the_tables_are_not_empty() -> None:
    assert len(CASES) == 6


@pytest.mark.parametrize(("deadline", "before", "expected"), CASES)
def test_remind_at(deadline: datetime, before: int, expected: datetime) -> None:
    assert remind_at(UTC_CAL, deadline, before) == expected


def test_remind_at_is_local_midnight_in_the_policy_zone() -> None:
    deadline = datetime(2026, 12, 4, 5, tzinfo=UTC)  # end of Thu 3 Dec in New York (EST)
    assert remind_at(NEW_YORK, deadline, 1) == datetime(2026, 12, 2, 5, tzinfo=UTC)


def test_a_reminder_is_due_from_its_day_until_the_deadline() -> None:
    deadline = utc(12, 4)
    assert not due_reminder(UTC_CAL, deadline, 1, utc(12, 2) - timedelta(seconds=1))
    assert due_reminder(UTC_CAL, deadline, 1, utc(12, 2))
    assert due_reminder(UTC_CAL, deadline, 1, deadline - timedelta(seconds=1))
    assert not due_reminder(UTC_CAL, deadline, 1, deadline)  # overdue: the audit's business


def test_business_days_before_a_weekend_day_starts_from_the_friday() -> None:
    assert business_days_before(UTC_CAL, date(2026, 12, 6), 0) == date(2026, 12, 4)
    assert business_days_before(UTC_CAL, date(2026, 12, 6), 1) == date(2026, 12, 3)
    with pytest.raises(ValueError, match="before a deadline"):
        remind_at(UTC_CAL, utc(12, 4), -1)


def test_links_and_messages() -> None:
    assert link("https://cg.example.com/", "CHG-7") == "https://cg.example.com/changes/CHG-7"
    assert link(None, "CHG-7") == "/changes/CHG-7"
    ask = awaiting("CHG-7", 2, "Upgrade db", "high", "https://cg/changes/CHG-7")
    assert ask.event_key == "change.awaiting_approval:CHG-7:v2"
    assert ask.subject == "CHG-7 v2 awaits your approval: Upgrade db"
    assert "https://cg/changes/CHG-7" in ask.body
    due = reminder("CHG-2", "Flag", Obligation.PIR, utc(12, 4), "UTC", "/changes/CHG-2")
    assert due.event_key == "reminder.pir:CHG-2:2026-12-04T00:00:00+00:00"
    assert due.subject == "Reminder: CHG-2 PIR due by end of Thu 2026-12-03 (UTC)"
    assert "/changes/CHG-2" in due.body
