"""Drift comparison, authorisation and the drift state table."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from changegate.domain.drift import (
    MISSING,
    TRANSITIONS,
    ChangeRef,
    Difference,
    DriftAction,
    DriftStatus,
    Verdict,
    authorising_change,
    diff,
    due_at,
    judge,
    transition,
)
from changegate.domain.errors import InvalidTransition

T = datetime(2026, 9, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("declared", "observed", "expected"),
    [
        ({"BucketName": "logs"}, {"bucketName": "logs", "creationDate": "x"}, []),
        (
            {"BucketName": "logs"},
            {"bucketName": "other"},
            [Difference("/BucketName", "logs", "other")],
        ),
        (
            {"VersioningConfiguration": {"Status": "Enabled"}},
            {"versioningConfiguration": {"status": "Suspended"}},
            [Difference("/VersioningConfiguration/Status", "Enabled", "Suspended")],
        ),
        ({"Port": 443}, {"port": "443"}, []),
        ({"Enabled": True}, {"enabled": "true"}, []),
        ({"Role": {"Fn::GetAtt": ["R", "Arn"]}}, {"role": "arn:aws:iam::1:role/x"}, []),
        ({"Name": "a"}, {}, [Difference("/Name", "a", MISSING)]),
        ({"Ports": [80, 443]}, {"ports": [80]}, [Difference("/Ports", [80, 443], [80])]),
        (
            {"Rules": [{"Port": 22}]},
            {"rules": [{"port": 2222}]},
            [Difference("/Rules/0/Port", 22, 2222)],
        ),
        (
            {"Tags": {"Env": "prod"}, "Ref": {"Ref": "X"}},
            MappingProxyType({"tags": MappingProxyType({"env": "dev"})}),
            [Difference("/Tags/Env", "prod", "dev")],
        ),
    ],
)
def test_diff_compares_only_declared_properties(
    declared: dict[str, object], observed: Mapping[str, object], expected: list[Difference]
) -> None:
    assert diff(declared, observed) == expected


def test_transition_table_is_complete() -> None:
    for status, action in itertools.product(DriftStatus, DriftAction):
        if (status, action) in TRANSITIONS:
            assert transition(status, action) is TRANSITIONS[(status, action)]
        else:
            with pytest.raises(InvalidTransition):
                transition(status, action)


def change(key: str, text: str, implemented: datetime, start: datetime | None = None) -> ChangeRef:
    return ChangeRef(key, text.lower(), start, implemented)


@pytest.mark.parametrize(
    ("observed_at", "changes", "expected"),
    [
        (
            T,
            [change("CHG-1", "Enable versioning on bucket logs-prod", T - timedelta(hours=1))],
            "CHG-1",
        ),
        (T, [change("CHG-1", "Enable versioning on bucket other", T)], None),
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
