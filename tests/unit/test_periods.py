"""Reporting periods: quarters and years as half-open UTC ranges, boundaries written out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changegate.domain.errors import BadInput
from changegate.domain.periods import Span, parse, previous_quarter, quarter_bounds, quarter_of


def utc(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


BOUNDS = [
    ("2026-Q1", utc(2026, 1), utc(2026, 4)),
    ("2026-Q2", utc(2026, 4), utc(2026, 7)),
    ("2026-Q3", utc(2026, 7), utc(2026, 10)),
    ("2026-Q4", utc(2026, 10), utc(2027, 1)),
    ("2026-q3", utc(2026, 7), utc(2026, 10)),
    ("1970-Q1", utc(1970, 1), utc(1970, 4)),
    ("9998-Q4", utc(9998, 10), utc(9999, 1)),
]
NOT_QUARTERS = ["2026-Q0", "2026-Q5", "1969-Q4", "9999-Q1", "2026-3", "2026", "Q3-2026"]


def test_the_tables_are_not_empty() -> None:
    assert (len(BOUNDS), len(NOT_QUARTERS), len(PERIODS), len(NOT_PERIODS)) == (7, 7, 5, 5)


@pytest.mark.parametrize(("quarter", "start", "end"), BOUNDS)
def test_quarter_bounds(quarter: str, start: datetime, end: datetime) -> None:
    assert quarter_bounds(quarter) == (start, end)


@pytest.mark.parametrize("text", NOT_QUARTERS)
def test_not_a_quarter_is_bad_input_naming_it(text: str) -> None:
    with pytest.raises(BadInput) as info:
        quarter_bounds(text)
    assert info.value.message == f"not a quarter: '{text}' (expected e.g. 2026-Q3)"


def test_quarter_of_an_instant() -> None:
    instants = [utc(2026, 1), utc(2026, 3, 31), utc(2026, 4), utc(2026, 9, 30), utc(2026, 12, 31)]
    assert [quarter_of(i) for i in instants] == [
        "2026-Q1",
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]


def test_the_previous_quarter_crosses_the_year() -> None:
    assert [previous_quarter(q) for q in ("2026-Q1", "2026-Q2", "2026-q4")] == [
        "2025-Q4",
        "2026-Q1",
        "2026-Q3",
    ]


PERIODS = [
    ("2026", Span("2026", utc(2026, 1), utc(2027, 1))),
    (" 2026 ", Span("2026", utc(2026, 1), utc(2027, 1))),
    ("1970", Span("1970", utc(1970, 1), utc(1971, 1))),
    ("9998", Span("9998", utc(9998, 1), utc(9999, 1))),
    (" 2026-q3 ", Span("2026-Q3", utc(2026, 7), utc(2026, 10))),
]
NOT_PERIODS = ["1969", "9999", "20261", "202", "last quarter"]


@pytest.mark.parametrize(("text", "span"), PERIODS)
def test_a_period_is_a_year_or_a_quarter(text: str, span: Span) -> None:
    assert parse(text) == span


@pytest.mark.parametrize("text", NOT_PERIODS)
def test_not_a_period_is_bad_input_naming_it(text: str) -> None:
    with pytest.raises(BadInput) as info:
        parse(text)
    assert info.value.message == (
        f"not a period: '{text}' (expected a quarter like 2026-Q3 or a year)"
    )


def test_a_malformed_quarter_as_a_period_names_the_quarter() -> None:
    with pytest.raises(BadInput) as info:
        parse("2026-Q9")
    assert info.value.message == "not a quarter: '2026-Q9' (expected e.g. 2026-Q3)"
