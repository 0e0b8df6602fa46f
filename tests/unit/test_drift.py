"""Drift comparison, authorisation and the drift state table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from changegate.domain.drift import (
    TRANSITIONS,
    ChangeRef,
    DriftAction,
    DriftStatus,
    Verdict,
    authorising_change,
    due_at,
    judge,
    transition,
    words,
)
from changegate.domain.errors import InvalidTransition

T = datetime(2026, 9, 1, 12, tzinfo=UTC)


def test_transition_table_is_complete() -> None:
    for status, action in itertools.product(DriftStatus, DriftAction):
        if (status, action) in TRANSITIONS:
            assert transition(status, action) is TRANSITIONS[(status, action)]
        else:
            with pytest.raises(InvalidTransition):
                transition(status, action)


def change(key: str, text: str, implemented: datetime, start: datetime | None = None) -> ChangeRef:
    return ChangeRef(key, words(text), start, implemented)


@pytest.mark.parametrize(
    ("observed_at", "changes", "expected"),
    [
        (
            T,
            [change("CHG-1", "Enable versioning on bucket logs-prod", T - timedelta(hours=1))],
            "CHG-1",
        ),
        (T, [change("CHG-1", "Enable versioning on bucket other", T)], None),
        # Names match exactly, as words: a change to logs-prod-archive does not explain logs-prod.
        (T, [change("CHG-1", "Archive bucket logs-prod-archive", T)], None),
        (T, [change("CHG-1", "Retire logs-prod.", T)], "CHG-1"),
        (T, [change("CHG-1", "Re-point (arn:aws:s3:::logs-prod) to the new key", T)], "CHG-1"),
        (T, [change("CHG-1", "logs-prod", T - timedelta(days=3))], None),
        (
            T,
            [change("CHG-1", "logs-prod", T + timedelta(hours=5), start=T - timedelta(hours=1))],
            "CHG-1",
        ),
        (
            T,
            [
                change("CHG-1", "logs-prod", T - timedelta(hours=2)),
                change("CHG-2", "logs-prod", T - timedelta(minutes=5)),
            ],
            "CHG-2",
        ),
    ],
)
def test_authorising_change(
    observed_at: datetime, changes: list[ChangeRef], expected: str | None
) -> None:
    assert (
        authorising_change(
            ["logs-prod", "arn:aws:s3:::logs-prod"], observed_at, changes, timedelta(hours=2)
        )
        == expected
    )


def test_due_is_48_clock_hours() -> None:
    assert due_at(T, 48) == T + timedelta(hours=48)


OPEN, REMEDIATED, REBASELINED = DriftStatus.OPEN, DriftStatus.REMEDIATED, DriftStatus.REBASELINED


@pytest.mark.parametrize(
    ("differs", "last", "last_observation", "expected"),
    [
        (False, None, None, Verdict.NONE),
        (False, REMEDIATED, 1, Verdict.NONE),
        (False, OPEN, 1, Verdict.CLOSE),
        (False, OPEN, 7, Verdict.CLOSE),
        (True, None, None, Verdict.OPEN),
        (True, OPEN, 1, Verdict.STILL_OPEN),
        (True, OPEN, 7, Verdict.STILL_OPEN),
        (True, REMEDIATED, 1, Verdict.OPEN),
        (True, REBASELINED, 1, Verdict.OPEN),
        (True, REBASELINED, 7, Verdict.SEEN),
        (True, REMEDIATED, 7, Verdict.SEEN),
    ],
)
def test_judge_one_observation_of_a_resource(
    differs: bool, last: DriftStatus | None, last_observation: int | None, expected: Verdict
) -> None:
    assert judge(differs, last, last_observation, 7) is expected
