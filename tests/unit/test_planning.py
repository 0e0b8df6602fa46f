"""The change calendar's rules, against conflicts and weeks written out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.gate import Freeze
from changegate.domain.planning import (
    Conflict,
    ConflictKind,
    Planned,
    freeze_conflicts,
    overlap,
    service_conflicts,
    span,
    weeks_of,
)

LAP, FRZ = ConflictKind.OVERLAP, ConflictKind.FREEZE


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 12, day, tzinfo=UTC) + timedelta(hours=hour)


def p(key: str, start: datetime, end: datetime, *services: str, env: str = "production") -> Planned:
    return Planned(key, start, end, services, (env,))


OVERLAPS = [
    ((t(1, 9), t(1, 10)), (t(1, 10), t(1, 11)), False),  # touching
    ((t(1, 10), t(1, 11)), (t(1, 9), t(1, 10)), False),  # touching, the other way
    ((t(1, 9), t(1, 11)), (t(1, 10), t(1, 12)), True),
    ((t(1, 9), t(1, 12)), (t(1, 10), t(1, 11)), True),  # one inside the other
    ((t(1, 9), t(1, 10)), (t(1, 9), t(1, 10)), True),  # the same window
    ((t(1, 9), t(1, 10)), (t(2, 9), t(2, 10)), False),
]


def test_the_tables_are_not_empty() -> None:
    assert len(OVERLAPS) == 6


@pytest.mark.parametrize(("a", "b", "expected"), OVERLAPS)
def test_overlap_is_half_open(
    a: tuple[datetime, datetime], b: tuple[datetime, datetime], expected: bool
) -> None:
    assert overlap(a, b) is expected


def test_changes_that_touch_on_one_service_do_not_conflict() -> None:
    touching = [p("CHG-1", t(1, 9), t(1, 10), "orders"), p("CHG-2", t(1, 10), t(1, 11), "orders")]
    assert service_conflicts(touching) == []


def test_overlapping_changes_conflict_per_shared_service() -> None:
    found = service_conflicts(
        [
            p("CHG-2", t(1, 10), t(1, 12), "orders", "payments"),
            p("CHG-1", t(1, 9), t(1, 11), "orders", "payments"),
            p("CHG-3", t(1, 9), t(1, 23), "search"),  # overlaps in time, not in service
        ]
    )
    assert found == [
        Conflict(LAP, "CHG-1", "CHG-2", "orders", t(1, 10), t(1, 11)),
        Conflict(LAP, "CHG-1", "CHG-2", "payments", t(1, 10), t(1, 11)),
    ]


def test_three_at_once_are_three_pairs_and_a_finished_one_drops_out() -> None:
    found = service_conflicts(
        [
            p("CHG-1", t(1, 8), t(1, 12), "api"),
            p("CHG-2", t(1, 9), t(1, 10), "api"),
            p("CHG-3", t(1, 9.5), t(1, 11), "api"),
            p("CHG-4", t(1, 12), t(1, 13), "api"),  # starts as CHG-1 ends
        ]
    )
    assert [(c.change, c.other, c.start, c.end) for c in found] == [
        ("CHG-1", "CHG-2", t(1, 9), t(1, 10)),
        ("CHG-1", "CHG-3", t(1, 9.5), t(1, 11)),
        ("CHG-2", "CHG-3", t(1, 9.5), t(1, 10)),
    ]


def test_a_change_inside_a_freeze_of_its_environment() -> None:
    freeze = Freeze("year-end", t(20), t(28), ("production",))
    found = freeze_conflicts(
        [
            p("CHG-1", t(19, 22), t(20, 2), "api"),  # crosses into it
            p("CHG-2", t(21), t(22), "api", env="staging"),  # not a frozen environment
            p("CHG-3", t(28), t(28, 1), "api"),  # starts as it ends
            p("CHG-4", t(19), t(20), "api"),  # ends as it starts
        ],
        [freeze],
    )
    assert found == [Conflict(FRZ, "CHG-1", "year-end", "production", t(20), t(20, 2))]


def test_span_is_local_days_in_the_policy_zone() -> None:
    start, end = span(date(2026, 12, 1), date(2026, 12, 31), "Europe/Berlin")
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (t(1) - timedelta(hours=1), t(31, 23))
    one = span(date(2026, 12, 1), date(2026, 12, 1), "UTC")
    assert one == (t(1), t(2))


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 12, 2), date(2026, 12, 1), "ends"),
        (date(2026, 1, 1), date(2026, 12, 31), "at most 92 days, not 365"),
    ],
)
def test_a_bad_range_is_bad_input(first: date, last: date, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        span(first, last, "UTC")


def test_ninety_two_days_is_the_most() -> None:
    span(date(2026, 1, 1), date(2026, 4, 2), "UTC", max_days=92)
    with pytest.raises(BadInput, match="not 93"):
        span(date(2026, 1, 1), date(2026, 4, 3), "UTC")


def test_weeks_are_iso_weeks_in_the_policy_zone() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin: week 50 there, week 49 in UTC.
    late_sunday = (t(6, 23.5), t(6, 23.75))
    assert weeks_of(*late_sunday, "Europe/Berlin") == [("2026-W50", date(2026, 12, 7))]
    assert weeks_of(*late_sunday, "UTC") == [("2026-W49", date(2026, 11, 30))]
    # A range ending at a Monday's local midnight does not touch that week.
    assert [w for w, _ in weeks_of(t(21), t(28), "UTC")] == ["2026-W52"]
    assert [w for w, _ in weeks_of(t(21), t(28, 1), "UTC")] == ["2026-W52", "2026-W53"]
