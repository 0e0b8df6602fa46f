"""How the CLI shows times, deadlines, durations and counts to people (JSON keeps instants)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changegate.cli.formats import deadline, duration, plural, when
from changegate.domain.calendar import calendar_from


def test_an_instant_prints_to_the_second_with_its_offset() -> None:
    assert when(datetime(2026, 11, 25, 15, 0, 7, 123456, tzinfo=UTC)) == (
        "2026-11-25 15:00:07+00:00"
    )
    assert when(None) is None


@pytest.mark.parametrize(
    ("tz", "trigger", "shown"),
    [
        # Implemented the day before Thanksgiving: five US business days end on Thu 3 December.
        (
            "America/New_York",
            datetime(2026, 11, 25, 20, 0, tzinfo=UTC),
            "end of Thu 2026-12-03 (America/New_York)",
        ),
        ("UTC", datetime(2026, 9, 10, 9, 0, tzinfo=UTC), "end of Thu 2026-09-17 (UTC)"),
        (
            "Asia/Jerusalem",
            datetime(2026, 1, 4, 8, 0, tzinfo=UTC),
            "end of Sun 2026-01-11 (Asia/Jerusalem)",
        ),
    ],
)
def test_a_business_day_deadline_prints_as_the_end_of_that_day(
    tz: str, trigger: datetime, shown: str
) -> None:
    weekend = (4, 5) if tz == "Asia/Jerusalem" else (5, 6)
    holidays = {datetime(2026, 11, 26).date()} if tz.startswith("America") else set()
    calendar = calendar_from(tz, holidays, "test", weekend=weekend)
    assert deadline(calendar.add_business_days(trigger, 5), tz) == shown


def test_a_clock_deadline_prints_as_an_instant() -> None:
    due = datetime(2026, 9, 3, 9, 0, tzinfo=UTC)  # 48 clock hours after a detection
    assert deadline(due, None) == "2026-09-03 09:00:00+00:00"
    assert deadline(due, "UTC") == "2026-09-03 09:00:00+00:00"  # not a day's end


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (59.6, "1 min"),
        (720, "12 min"),
        (3600, "1 h"),
        (3600 * 3 + 20 * 60, "3 h 20 min"),
        (23 * 3600, "23 h"),
        (86400, "1 d"),
        (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
    ],
)
def test_durations_are_humanised(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_counts_agree_with_their_nouns() -> None:
    assert [plural(n, "finding") for n in (0, 1, 2)] == ["0 findings", "1 finding", "2 findings"]
    assert plural(1, "policy", "policies") == "1 policy"
    assert plural(3, "policy", "policies") == "3 policies"
