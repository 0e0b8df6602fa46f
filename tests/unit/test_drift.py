"""Drift comparison, authorisation and the drift state table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from changegate.domain.drift import (
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


OPEN, FIXED, REBASED = DriftStatus.OPEN, DriftStatus.REMEDIATED, DriftStatus.REBASELINED
# Every (status, action) written out by hand from CFG-4's life of a drift; None: refused.
EXPECTED_TRANSITIONS: dict[tuple[DriftStatus, DriftAction], DriftStatus | None] = {
    (OPEN, DriftAction.MATCH): FIXED,  # the resource is as the baseline says again
    (OPEN, DriftAction.REBASELINE): REBASED,  # an approved change made the new state the baseline
    (OPEN, DriftAction.REDRIFT): None,  # an open drift cannot drift again; it stays open
    (FIXED, DriftAction.MATCH): None,
    (FIXED, DriftAction.REBASELINE): None,
    (FIXED, DriftAction.REDRIFT): OPEN,  # drifted again after it was fixed: reopened
    (REBASED, DriftAction.MATCH): None,
    (REBASED, DriftAction.REBASELINE): None,
    (REBASED, DriftAction.REDRIFT): OPEN,
}


@pytest.mark.parametrize(("status", "action"), list(EXPECTED_TRANSITIONS))
def test_each_transition_as_written_by_hand(status: DriftStatus, action: DriftAction) -> None:
    expected = EXPECTED_TRANSITIONS[(status, action)]
    if expected is None:
        with pytest.raises(InvalidTransition):
            transition(status, action)
    else:
        assert transition(status, action) is expected


def test_the_hand_table_covers_every_pair() -> None:
    assert set(EXPECTED_TRANSITIONS) == set(itertools.product(DriftStatus, DriftAction))
    assert len(EXPECTED_TRANSITIONS) == 9


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


def test_words_keep_letters_the_punctuation_strip_does_not_name() -> None:
    assert words("Resize BOX, then X. Done!") == {"resize", "box", "then", "x", "done"}
    assert words("... ?! logs-prod:") == {"logs-prod"}


SLACK = timedelta(hours=2)
# A change with a window from T - 1h, implemented at T: it explains T - 3h to T + 2h, inclusive.
EDGES = [
    (T - timedelta(hours=3), "CHG-1"),
    (T - timedelta(hours=3, seconds=1), None),
    (T + SLACK, "CHG-1"),
    (T + SLACK + timedelta(seconds=1), None),
]


def test_the_edges_are_not_empty() -> None:
    assert len(EDGES) == 4


@pytest.mark.parametrize(("observed_at", "expected"), EDGES)
def test_a_change_explains_drift_up_to_the_slack_either_side(
    observed_at: datetime, expected: str | None
) -> None:
    changes = [change("CHG-1", "logs-prod", T, start=T - timedelta(hours=1))]
    assert authorising_change(["logs-prod"], observed_at, changes, SLACK) == expected
