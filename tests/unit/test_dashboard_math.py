"""The CM-6 arithmetic and the DORA keys, against values worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from changegate.domain.dashboard import (
    age_bucket,
    bucket_counts,
    hours,
    per_week,
    percent,
    percentile,
    rank,
    week_of,
    weekly,
    weeks,
)
from changegate.domain.dora import DoraInputs, Duration, keys

Q3 = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))

PERCENTS = [
    ((0, 0), None),
    ((0, 3), 0.0),
    ((1, 3), 33.3),
    ((2, 3), 66.7),
    ((3, 3), 100.0),
    ((1, 8), 12.5),
    ((3, 7), 42.9),
]
# Nearest rank: the ceil(p * n)-th smallest value, 0-based here.
RANKS = [
    ((0.5, 1), 0),
    ((0.5, 2), 0),
    ((0.5, 3), 1),
    ((0.5, 4), 1),
    ((0.9, 4), 3),
    ((0.9, 10), 8),
    ((0.9, 11), 9),
    ((1.0, 5), 4),
    ((0.1, 10), 0),
    ((0.3, 10), 2),
]
AGES = [
    (timedelta(seconds=-5), "under 1 day"),
    (timedelta(hours=23), "under 1 day"),
    (timedelta(days=1), "1-3 days"),
    (timedelta(days=3) - timedelta(seconds=1), "1-3 days"),
    (timedelta(days=3), "3-7 days"),
    (timedelta(days=7), "7-30 days"),
    (timedelta(days=30), "30 days or more"),
    (timedelta(days=400), "30 days or more"),
]


def test_the_tables_are_not_empty() -> None:
    assert (len(PERCENTS), len(RANKS), len(AGES)) == (7, 10, 8)


@pytest.mark.parametrize(("given", "expected"), PERCENTS)
def test_percent(given: tuple[int, int], expected: float | None) -> None:
    assert percent(*given) == expected


@pytest.mark.parametrize("given", [(4, 3), (-1, 3), (0, -1)])
def test_a_share_cannot_exceed_its_whole(given: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="share"):
        percent(*given)


@pytest.mark.parametrize(("given", "expected"), RANKS)
def test_nearest_rank(given: tuple[float, int], expected: int) -> None:
    assert rank(*given) == expected


@pytest.mark.parametrize("given", [(0.5, 0), (0.0, 3), (1.5, 3)])
def test_rank_refuses_what_has_no_percentile(given: tuple[float, int]) -> None:
    with pytest.raises(ValueError, match="percentile"):
        rank(*given)


def test_percentile_of_sorted_values() -> None:
    values = [1.0, 2.0, 25.0, 49.0]
    assert (percentile(values, 0.5), percentile(values, 0.9)) == (2.0, 49.0)
    assert percentile([], 0.5) is None


def test_hours_and_rates_per_week() -> None:
    assert (hours(None), hours(5400), hours(1)) == (None, 1.5, 0.0)
    assert per_week(5, *Q3) == 0.38  # 92 days: 5 * 7 / 92 = 0.3804
    assert per_week(0, *Q3) == 0.0
    with pytest.raises(ValueError, match="end after"):
        per_week(1, Q3[1], Q3[0])


@pytest.mark.parametrize(("age", "label"), AGES)
def test_age_buckets(age: timedelta, label: str) -> None:
    assert age_bucket(age) == label


def test_bucket_counts_keep_every_bucket_in_order() -> None:
    assert list(bucket_counts({"3-7 days": 2}).items()) == [
        ("under 1 day", 0),
        ("1-3 days", 0),
        ("3-7 days", 2),
        ("7-30 days", 0),
        ("30 days or more", 0),
    ]


def test_iso_weeks() -> None:
    assert week_of(date(2026, 12, 31)) == "2026-W53"
    assert week_of(date(2027, 1, 3)) == "2026-W53"  # Sunday: still the ISO year 2026
    assert week_of(date(2026, 7, 1)) == "2026-W27"
    q3 = weeks(*Q3)
    assert (q3[0], q3[-1], len(q3)) == ("2026-W27", "2026-W40", 14)
    # A period ending at a Monday midnight does not touch that Monday's week.
    assert weeks(datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 13, tzinfo=UTC)) == [
        "2026-W28"
    ]


def test_weekly_folds_days_into_weeks() -> None:
    folded = weekly({date(2026, 7, 1): 2, date(2026, 7, 5): 1, date(2026, 7, 6): 4}, *Q3)
    assert (folded["2026-W27"], folded["2026-W28"], folded["2026-W29"]) == (3, 4, 0)
    with pytest.raises(ValueError, match="outside"):
        weekly({date(2026, 10, 12): 1}, *Q3)


def test_dora_keys_from_counts() -> None:
    found = keys(
        DoraInputs(
            *Q3,
            deployments=5,
            finished=6,
            failed=2,
            lead=Duration(4, 2 * 3600.0, 49 * 3600.0),
            restore=Duration(1, 7200.0, 7200.0),
        )
    )
    assert (found.deployments_per_week, found.change_failure_rate_percent) == (0.38, 33.3)
    assert (found.lead_time_hours_median, found.lead_time_hours_p90) == (2.0, 49.0)
    assert (found.restored, found.unrestored, found.time_to_restore_hours_median) == (1, 1, 2.0)
    assert found.lead_time_from == "submission"


def test_dora_refuses_more_restorations_than_failures() -> None:
    with pytest.raises(ValueError, match="restorations"):
        keys(DoraInputs(*Q3, 1, 1, 0, Duration(), Duration(1, 1.0, 1.0)))
