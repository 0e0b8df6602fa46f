"""Business-day and clock-hour deadlines (DESIGN.md section 6), and CM-3 emergency obligations.

"N business days" ends at local midnight after the Nth business day following the trigger's
local day; the trigger day never counts. Deadlines are returned in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from changegate import policy
from changegate.domain.calendar import (
    BusinessCalendar,
    add_clock_hours,
    calendar_from,
    require_aware,
)
from changegate.domain.changes import ChangeType
from changegate.domain.deadlines import (
    PIR,
    RETRO_APPROVAL,
    ObligationState,
    Overdue,
    check_closable,
    emergency_obligations,
    overdue,
)
from changegate.domain.errors import BadInput, Refused

NY = ZoneInfo("America/New_York")


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@cache
def _policy(
    timezone: str = "UTC",
    closures: tuple[str, ...] = (),
    country: str | None = "US",
    weekend: tuple[str, ...] | None = None,
) -> policy.Policy:
    document: dict[str, Any] = {
        "timezone": timezone,
        "holidays": {
            "closures": list(closures),
            "country": country,
            "weekend": list(weekend) if weekend else None,
        },
    }
    return policy.from_document(document, "test")


def deadline(trigger: datetime, n: int, **kwargs: Any) -> datetime:
    return _policy(**kwargs).calendar(trigger).add_business_days(trigger, n)


# --- the holidays package says what we rely on -------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2026, 11, 26), "Thanksgiving Day"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 1, 1), "New Year's Day"),
        (date(2026, 11, 11), "Veterans Day"),
    ],
)
def test_us_calendar_has_the_holidays_the_tables_below_assume(day: date, name: str) -> None:
    assert holidays.country_holidays("US", years=day.year).get(day) == name


def test_july_4_2026_is_a_saturday() -> None:
    assert date(2026, 7, 4).weekday() == 5


# --- default US calendar in UTC ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "n", "due"),
    [
        # Wed before Thanksgiving: Fri 27 (1), Mon 30 (2), Tue 1 (3), Wed 2 (4), Thu 3 (5)
        ("2026-11-25T15:00Z", 5, "2026-12-04T00:00Z"),
        ("2026-11-25T00:00Z", 5, "2026-12-04T00:00Z"),  # start of the trigger day: still excluded
        ("2026-11-25T23:59:59Z", 5, "2026-12-04T00:00Z"),  # end of the trigger day: same
        ("2026-11-25T15:00Z", 1, "2026-11-28T00:00Z"),  # day 1 is Friday, Thanksgiving skipped
        # an ordinary week: Mon 2 Nov + 1 is Tue 3, ends at Wed 00:00
        ("2026-11-02T09:00Z", 1, "2026-11-04T00:00Z"),
        ("2026-11-02T09:00Z", 4, "2026-11-07T00:00Z"),  # Tue, Wed 11 Nov is Veterans Day: Thu, Fri
        # Friday trigger skips the weekend: Mon 9 (1), Tue 10 (2), [Wed 11 holiday], Thu 12 (3)
        ("2026-11-06T16:00Z", 1, "2026-11-10T00:00Z"),
        ("2026-11-06T16:00Z", 3, "2026-11-13T00:00Z"),
        ("2026-10-16T12:00Z", 5, "2026-10-24T00:00Z"),  # Fri -> Mon..Fri of the next week
        # weekend triggers: the next business day is day 1
        ("2026-10-17T12:00Z", 1, "2026-10-20T00:00Z"),  # Saturday -> Monday 19
        ("2026-10-18T12:00Z", 1, "2026-10-20T00:00Z"),  # Sunday -> Monday 19
        # July 4 2026 is a Saturday, observed Friday July 3
        ("2026-07-02T12:00Z", 1, "2026-07-07T00:00Z"),  # Thu -> Mon 6
        ("2026-07-01T12:00Z", 2, "2026-07-07T00:00Z"),  # Wed -> Thu 2 (1), Mon 6 (2)
        ("2026-07-03T12:00Z", 1, "2026-07-07T00:00Z"),  # triggered on the observed holiday itself
        # Christmas and New Year: Fri 25 Dec 2026 and Fri 1 Jan 2027 (next year's calendar)
        ("2026-12-24T12:00Z", 1, "2026-12-29T00:00Z"),  # Thu -> Mon 28
        ("2026-12-24T12:00Z", 4, "2027-01-01T00:00Z"),  # Mon 28, Tue 29, Wed 30, Thu 31
        ("2026-12-24T12:00Z", 5, "2027-01-05T00:00Z"),  # ... [Fri 1 Jan], Mon 4
        ("2026-12-31T12:00Z", 1, "2027-01-05T00:00Z"),  # New Year's Eve -> Mon 4 Jan
    ],
)
def test_business_days_default_us_calendar(trigger: str, n: int, due: str) -> None:
    assert deadline(z(trigger), n) == z(due)


def test_deadline_is_in_utc() -> None:
    due = deadline(z("2026-11-25T15:00Z"), 5)
    assert due.utcoffset() == timedelta(0)


def test_trigger_given_in_another_offset_is_converted_first() -> None:
    # 2026-11-25T23:30-05:00 is already Thursday 26 Nov in UTC (the policy zone)
    trigger = datetime(2026, 11, 25, 23, 30, tzinfo=NY)
    assert deadline(trigger, 1) == z("2026-11-28T00:00Z")  # Thu (trigger, holiday) -> Fri 27
    assert deadline(trigger, 2) == z("2026-12-01T00:00Z")  # Fri 27, Mon 30


# --- company closures from the policy ------------------------------------------------------------


@pytest.mark.parametrize(
    ("closures", "trigger", "n", "due"),
    [
        ((), "2026-12-21T12:00Z", 3, "2026-12-25T00:00Z"),  # Tue 22, Wed 23, Thu 24
        (("2026-12-24",), "2026-12-21T12:00Z", 3, "2026-12-29T00:00Z"),  # Thu 24 closed -> Mon 28
        (("2026-12-24", "2026-12-28"), "2026-12-21T12:00Z", 3, "2026-12-30T00:00Z"),
        # Tue 22, Wed 23, [24 closed, 25 holiday], Mon 28, Tue 29, Wed 30, [31 closed, 1 Jan], Mon 4
        (("2026-12-24", "2026-12-31"), "2026-12-21T12:00Z", 5, "2026-12-31T00:00Z"),
        (("2026-12-24", "2026-12-31"), "2026-12-21T12:00Z", 6, "2027-01-05T00:00Z"),
        # a closure on a weekend or a holiday changes nothing
        (("2026-12-26", "2026-12-25"), "2026-12-24T12:00Z", 1, "2026-12-29T00:00Z"),
    ],
)
def test_company_closures_are_skipped(
    closures: tuple[str, ...], trigger: str, n: int, due: str
) -> None:
    assert deadline(z(trigger), n, closures=closures) == z(due)


def test_closures_without_a_country_calendar_skip_only_weekends_and_closures() -> None:
    pol = _policy(country=None, closures=("2026-11-27",))
    cal = pol.calendar(z("2026-11-25T15:00Z"))
    # Thanksgiving (Thu 26) is a business day here; Fri 27 is the company closure
    assert cal.nth_business_day(date(2026, 11, 25), 1) == date(2026, 11, 26)
    assert cal.nth_business_day(date(2026, 11, 25), 2) == date(2026, 11, 30)
    assert cal.describe() == {
        "tz": "UTC",
        "calendar": "weekends + 1 company closure(s)",
        "weekend": "Sat,Sun",
    }


def test_calendar_describes_itself_for_recomputation() -> None:
    cal = _policy(closures=("2026-12-24", "2026-12-31")).calendar(z("2026-12-01T00:00Z"))
    version = metadata.version("holidays")
    assert cal.describe() == {
        "tz": "UTC",
        "calendar": f"US holidays ({version}) + weekends + 2 company closure(s)",
        "weekend": "Sat,Sun",
    }
    assert {
        date(2026, 12, 24),
        date(2026, 12, 31),
        date(2026, 12, 25),
        date(2027, 1, 1),
    } <= cal.holidays


def test_calendar_covers_the_year_and_the_next() -> None:
    cal = _policy().calendar(z("2026-06-01T00:00Z"))
    years = {d.year for d in cal.holidays}
    assert years == {2026, 2027}


# --- time zones --------------------------------------------------------------------------------


def test_day_counting_starts_from_the_local_day() -> None:
    trigger = z("2026-11-24T03:30Z")  # Mon 23 Nov 22:30 in New York; Tue 24 Nov in UTC
    ny = _policy(timezone="America/New_York").calendar(trigger)
    assert ny.local_day(trigger) == date(2026, 11, 23)
    assert _policy().calendar(trigger).local_day(trigger) == date(2026, 11, 24)
    # New York: Tue 24 (1), Wed 25 (2), [Thu 26], Fri 27 (3), Mon 30 (4), Tue 1 (5)
    assert ny.add_business_days(trigger, 5) == z("2026-12-02T05:00Z")
    # UTC: Wed 25 (1), Fri 27 (2), Mon 30 (3), Tue 1 (4), Wed 2 (5)
    assert deadline(trigger, 5) == z("2026-12-03T00:00Z")


@pytest.mark.parametrize(
    ("trigger", "n", "due"),
    [
        # winter (EST, UTC-5): local midnight is 05:00Z
        ("2026-11-24T03:30Z", 1, "2026-11-25T05:00Z"),  # Mon local -> Tue 24 ends
        ("2026-01-14T15:00Z", 1, "2026-01-16T05:00Z"),
        # summer (EDT, UTC-4): local midnight is 04:00Z
        ("2026-07-01T12:00Z", 1, "2026-07-03T04:00Z"),  # Wed -> Thu 2
        ("2026-07-01T12:00Z", 2, "2026-07-07T04:00Z"),  # Thu 2, [Fri 3 observed], Mon 6
        # a Friday evening in New York is already Saturday in UTC
        ("2026-10-17T01:00Z", 1, "2026-10-20T04:00Z"),  # Fri 16 local -> Mon 19
        # DST ends Sun 1 Nov 2026: trigger in EDT, deadline in EST
        ("2026-10-29T12:00Z", 3, "2026-11-04T05:00Z"),  # Fri 30, Mon 2, Tue 3
        # DST starts Sun 8 Mar 2026: trigger in EST, deadline in EDT
        ("2026-03-05T12:00Z", 2, "2026-03-10T04:00Z"),  # Fri 6, Mon 9
        # the worked example in notes/soc2_evidence.md 6.1 (with 24 Dec as a closure)
        ("2026-12-18T02:00Z", 5, "2026-12-29T05:00Z"),  # Thu 17 21:00 local -> Mon 28
    ],
)
def test_new_york_deadlines_end_at_local_midnight(trigger: str, n: int, due: str) -> None:
    result = deadline(z(trigger), n, timezone="America/New_York", closures=("2026-12-24",))
    assert result == z(due)
    local = result.astimezone(NY)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_soc2_notes_example_uses_the_local_date_not_the_utc_date() -> None:
    trigger = z("2026-12-18T02:00Z")  # Thu 2026-12-17 21:00 in New York
    ny = deadline(trigger, 5, timezone="America/New_York", closures=("2026-12-24",))
    in_utc = deadline(trigger, 5, closures=("2026-12-24",))
    assert ny.astimezone(NY).date() - timedelta(days=1) == date(2026, 12, 28)
    assert in_utc.date() - timedelta(days=1) == date(2026, 12, 29)


@pytest.mark.parametrize(
    ("tz", "trigger", "due"),
    [
        # east of UTC: 2026-11-26T20:00Z is already Fri 27 in Tokyo; day 1 is Mon 30
        ("Asia/Tokyo", "2026-11-26T20:00Z", "2026-11-30T15:00Z"),
        (
            "Europe/Berlin",
            "2026-07-01T23:30Z",
            "2026-07-06T22:00Z",
        ),  # Thu 2 local, [Fri 3] -> Mon 6
        # Cairo springs forward at Friday 00:00 (24 Apr 2026): Thursday ends at the gap, 22:00Z
        ("Africa/Cairo", "2026-04-22T10:00Z", "2026-04-23T22:00Z"),
        # ...and falls back at Thursday 24:00 (29 Oct 2026): Thursday ends at the second midnight
        ("Africa/Cairo", "2026-10-28T10:00Z", "2026-10-29T22:00Z"),
    ],
)
def test_other_zones(tz: str, trigger: str, due: str) -> None:
    assert deadline(z(trigger), 1, timezone=tz) == z(due)


# --- clock hours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "hours", "due"),
    [
        ("2026-11-06T16:00Z", 48, "2026-11-08T16:00Z"),  # weekends count
        ("2026-11-25T10:00Z", 48, "2026-11-27T10:00Z"),  # holidays count
        ("2026-01-01T00:00Z", 1, "2026-01-01T01:00Z"),
    ],
)
def test_clock_hours_are_elapsed_hours(trigger: str, hours: int, due: str) -> None:
    assert add_clock_hours(z(trigger), hours) == z(due)


@pytest.mark.parametrize(
    ("local_start", "wall_after_48h"),
    [
        # fall back (1 Nov 2026): 48 elapsed hours show as 11:00 on the wall clock, not 12:00
        (datetime(2026, 10, 31, 12, 0, tzinfo=NY), datetime(2026, 11, 2, 11, 0)),
        # spring forward (8 Mar 2026): 48 elapsed hours show as 13:00
        (datetime(2026, 3, 7, 12, 0, tzinfo=NY), datetime(2026, 3, 9, 13, 0)),
    ],
)
def test_clock_hours_across_dst_are_exactly_elapsed(
    local_start: datetime, wall_after_48h: datetime
) -> None:
    due = add_clock_hours(local_start, 48)
    assert due.tzinfo is UTC
    assert due.timestamp() - local_start.timestamp() == 48 * 3600
    assert due.astimezone(NY).replace(tzinfo=None) == wall_after_48h


# --- bad input ----------------------------------------------------------------------------------

NAIVE = datetime(2026, 11, 25, 15, 0)


def test_naive_trigger_for_business_days_is_bad_input() -> None:
    cal = _policy().calendar(NAIVE)
    with pytest.raises(BadInput, match="has no time zone"):
        cal.add_business_days(NAIVE, 5)


def test_naive_trigger_for_clock_hours_is_bad_input() -> None:
    with pytest.raises(BadInput) as caught:
        add_clock_hours(NAIVE, 48)
    assert caught.value.message == "time 2026-11-25T15:00:00 has no time zone"


def test_require_aware_returns_an_aware_time_unchanged() -> None:
    aware = z("2026-11-25T15:00Z")
    assert require_aware(aware) is aware


@pytest.mark.parametrize("n", [0, -1, -5])
def test_fewer_than_one_business_day_is_bad_input(n: int) -> None:
    cal = BusinessCalendar(tz="UTC")
    with pytest.raises(BadInput) as caught:
        cal.add_business_days(z("2026-11-25T15:00Z"), n)
    assert caught.value.message == f"business days must be at least 1, got {n}"
    with pytest.raises(BadInput):
        cal.nth_business_day(date(2026, 11, 25), n)


@pytest.mark.parametrize("tz", ["Mars/Base", "", "../etc/passwd"])
def test_calendar_from_rejects_unknown_zones(tz: str) -> None:
    with pytest.raises(BadInput) as caught:
        calendar_from(tz, (), "x")
    assert caught.value.message == f"unknown time zone {tz!r}"


def test_calendar_from_builds_a_calendar() -> None:
    cal = calendar_from("Europe/Berlin", [date(2026, 12, 24)], "label")
    assert cal == BusinessCalendar("Europe/Berlin", frozenset({date(2026, 12, 24)}), "label")


@pytest.mark.parametrize(
    ("day", "business"),
    [
        (date(2026, 11, 27), True),  # Friday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 11, 26), False),  # holiday
    ],
)
def test_is_business_day(day: date, business: bool) -> None:
    cal = BusinessCalendar("UTC", frozenset({date(2026, 11, 26)}))
    assert cal.is_business_day(day) is business


# --- CM-3 emergency obligations -----------------------------------------------------------------

IMPLEMENTED_AT = z("2026-11-25T15:00Z")
FIVE_DAYS = z("2026-12-04T00:00Z")
THREE_DAYS = z("2026-12-02T00:00Z")


def obligations(kind: ChangeType, approved_before: bool, retro: int = 5, pir: int = 5) -> Any:
    cal = _policy().calendar(IMPLEMENTED_AT)
    return emergency_obligations(kind, approved_before, IMPLEMENTED_AT, cal, retro, pir)


@pytest.mark.parametrize(
    ("kind", "approved_before", "retro", "pir"),
    [
        (ChangeType.EMERGENCY, True, None, FIVE_DAYS),
        (ChangeType.EMERGENCY, False, FIVE_DAYS, FIVE_DAYS),
        (ChangeType.NORMAL, True, None, None),
        (ChangeType.NORMAL, False, None, None),
    ],
)
def test_emergency_obligations(
    kind: ChangeType, approved_before: bool, retro: datetime | None, pir: datetime | None
) -> None:
    result = obligations(kind, approved_before)
    assert (result.retro_due_at, result.pir_due_at) == (retro, pir)


def test_retro_and_pir_use_their_own_day_counts() -> None:
    result = obligations(ChangeType.EMERGENCY, False, retro=3, pir=5)
    assert result.retro_due_at == THREE_DAYS
    assert result.pir_due_at == FIVE_DAYS


DUE = z("2026-12-04T00:00Z")
TICK = timedelta(microseconds=1)


def state(
    retro_done: bool = False,
    pir_done: bool = False,
    retro_due: datetime | None = DUE,
    pir_due: datetime | None = DUE,
) -> ObligationState:
    return ObligationState("CHG-7", retro_due, retro_done, pir_due, pir_done)


@pytest.mark.parametrize(
    ("subject", "now", "expected"),
    [
        (state(), DUE - TICK, []),
        (state(), DUE, [Overdue("CHG-7", RETRO_APPROVAL, DUE), Overdue("CHG-7", PIR, DUE)]),
        (
            state(),
            DUE + timedelta(days=30),
            [Overdue("CHG-7", RETRO_APPROVAL, DUE), Overdue("CHG-7", PIR, DUE)],
        ),
        (state(retro_done=True), DUE, [Overdue("CHG-7", PIR, DUE)]),
        (state(pir_done=True), DUE, [Overdue("CHG-7", RETRO_APPROVAL, DUE)]),
        (state(retro_done=True, pir_done=True), DUE, []),
        (state(retro_due=None), DUE, [Overdue("CHG-7", PIR, DUE)]),  # approved before it ran
        (state(retro_due=None, pir_due=None), DUE + timedelta(days=365), []),  # a normal change
        (state(retro_due=THREE_DAYS), THREE_DAYS, [Overdue("CHG-7", RETRO_APPROVAL, THREE_DAYS)]),
        (state(retro_due=THREE_DAYS), THREE_DAYS - TICK, []),
    ],
    ids=[
        "one-microsecond-before",
        "exactly-at-due",
        "long-after",
        "retro-done",
        "pir-done",
        "all-done",
        "no-retro-owed",
        "nothing-owed",
        "retro-earlier-at",
        "retro-earlier-before",
    ],
)
def test_overdue(subject: ObligationState, now: datetime, expected: list[Overdue]) -> None:
    assert overdue(subject, now) == expected


@pytest.mark.parametrize(
    ("subject", "control_message"),
    [
        (state(), "CM-3: an emergency change closes only after its retroactive approvals"),
        (
            state(pir_done=True),
            "CM-3: an emergency change closes only after its retroactive approvals",
        ),
        (
            state(retro_done=True),
            "CM-3: an emergency change closes only after its post-implementation review",
        ),
        (
            state(retro_due=None),
            "CM-3: an emergency change closes only after its post-implementation review",
        ),
    ],
)
def test_check_closable_refuses_open_obligations(
    subject: ObligationState, control_message: str
) -> None:
    with pytest.raises(Refused) as caught:
        check_closable(subject)
    assert caught.value.control == "CM-3"
    assert caught.value.message == control_message


@pytest.mark.parametrize(
    "subject",
    [
        state(retro_done=True, pir_done=True),
        state(retro_due=None, pir_done=True),
        state(retro_due=None, pir_due=None),
    ],
    ids=["all-done", "pir-done-no-retro-owed", "nothing-owed"],
)
def test_check_closable_allows_when_nothing_is_open(subject: ObligationState) -> None:
    assert check_closable(subject) is None


WORKING_WEEKS = ["US", "GB", "DE", "IL", "CN", "RU", "JP", "IN", "AE"]


@pytest.mark.parametrize("country", WORKING_WEEKS)
def test_business_days_agree_with_the_holidays_package_for_a_year_of_triggers(
    country: str,
) -> None:
    """Every trigger day of 2026, N = 1..5: the country's weekend (Fri-Sat in Israel) and its
    make-up working days (China's and Russia's working Saturdays) count as the library says."""
    assert len(WORKING_WEEKS) == 9
    cal = _policy(country=country).calendar(z("2026-01-01T00:00Z"))
    theirs = holidays.country_holidays(country, years=[2026, 2027])
    start = date(2026, 1, 1)
    compared = 0
    for offset in range(365):
        trigger = start + timedelta(days=offset)
        for n in range(1, 6):
            assert cal.nth_business_day(trigger, n) == theirs.get_nth_working_day(trigger, n), (
                country,
                trigger,
                n,
            )
            compared += 1
    assert compared == 365 * 5


def test_israel_counts_sunday_to_thursday() -> None:
    cal = _policy(country="IL").calendar(z("2026-01-04T08:00Z"))
    assert cal.weekend == frozenset({4, 5})  # Friday and Saturday
    # Sunday 4 January 2026: five business days end on Sunday 11 January.
    assert cal.nth_business_day(date(2026, 1, 4), 5) == date(2026, 1, 11)


def test_a_policy_may_set_its_own_weekend() -> None:
    cal = _policy(country=None, weekend=("Fri", "sat")).calendar(z("2026-01-04T08:00Z"))
    assert cal.weekend == frozenset({4, 5})
    with pytest.raises(BadInput, match="weekend"):
        _policy(weekend=("funday",))


def test_china_works_its_make_up_saturdays() -> None:
    cal = _policy(country="CN").calendar(z("2026-01-01T00:00Z"))
    made_up = sorted(d for d in cal.workdays if d.year == 2026)
    assert made_up and all(d.weekday() in (5, 6) for d in made_up)
    assert all(cal.is_business_day(d) for d in made_up)


WEEKENDS_ACCEPTED = [(), (4,), (5, 6), (4, 5, 6), (0, 6)]
WEEKENDS_REFUSED = [
    ((4, 5, 6, 0), "[0, 4, 5, 6]"),
    ((7,), "[7]"),
    ((5, 7), "[5, 7]"),
    ((-1,), "[-1]"),
]


def test_the_weekend_tables_are_not_empty() -> None:
    assert (len(WEEKENDS_ACCEPTED), len(WEEKENDS_REFUSED)) == (5, 4)


@pytest.mark.parametrize("weekend", WEEKENDS_ACCEPTED)
def test_a_weekend_of_up_to_three_days_is_accepted(weekend: tuple[int, ...]) -> None:
    assert calendar_from("UTC", (), "x", weekend=weekend).weekend == frozenset(weekend)


@pytest.mark.parametrize(("weekend", "shown"), WEEKENDS_REFUSED)
def test_four_weekend_days_or_a_day_outside_the_week_is_refused(
    weekend: tuple[int, ...], shown: str
) -> None:
    with pytest.raises(BadInput) as caught:
        calendar_from("UTC", (), "x", weekend=weekend)
    assert caught.value.message == (
        f"a weekend is up to three of the days 0 (Mon) to 6 (Sun), not {shown}"
    )


def test_a_business_day_deadline_is_given_in_utc_whatever_the_calendars_zone() -> None:
    ny = BusinessCalendar(tz="America/New_York")
    deadline = ny.add_business_days(z("2026-11-25T15:00Z"), 1)
    assert deadline.tzinfo is UTC
    assert deadline.isoformat() == "2026-11-27T05:00:00+00:00"
