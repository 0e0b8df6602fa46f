"""CM-5 at deploy time: a production deployment names an unused allow decision for exactly what
it deploys, younger than the policy's time to live; a rollback goes to a known-good commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from changegate.domain.deployments import DecisionRef, check_authorised, check_rollback_target
from changegate.domain.errors import Refused

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)
SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
OTHER = "1234567890abcdef1234567890abcdef12345678"
REF = DecisionRef(41, True, "CHG-7", "production", SHA, "sha256:abc", NOW - TTL, False)


def authorise(ref: DecisionRef | None, artifact: str | None = "sha256:abc", **wanted: str) -> None:
    what = {"change_key": "CHG-7", "environment": "production", "commit": SHA} | wanted
    check_authorised(ref, artifact=artifact, now=NOW, ttl=TTL, **what)


def test_a_matching_unused_allow_decision_exactly_ttl_old_authorises() -> None:
    authorise(REF)
    authorise(REF, artifact=None)
    authorise(replace(REF, artifact=None), artifact="sha256:def")


REFUSALS: list[tuple[DecisionRef | None, dict[str, str], str]] = [
    (
        None,
        {},
        "a production deployment needs the gate decision that allowed it "
        "(--decision ID from `gate check`)",
    ),
    (replace(REF, allowed=False), {}, "gate decision 41 denied this deployment"),
    (
        REF,
        {"change_key": "CHG-8"},
        "gate decision 41 was for CHG-7 9fceb02d0ae5 to production, "
        "not CHG-8 9fceb02d0ae5 to production",
    ),
    (
        REF,
        {"environment": "staging"},
        "gate decision 41 was for CHG-7 9fceb02d0ae5 to production, "
        "not CHG-7 9fceb02d0ae5 to staging",
    ),
    (
        REF,
        {"commit": OTHER},
        "gate decision 41 was for CHG-7 9fceb02d0ae5 to production, "
        "not CHG-7 1234567890ab to production",
    ),
    (replace(REF, artifact="sha256:def"), {}, "gate decision 41 was for another artifact"),
    (replace(REF, used=True), {}, "gate decision 41 was already used by a deployment"),
    (
        replace(REF, decided_at=NOW - TTL - timedelta(seconds=1)),
        {},
        "gate decision 41 is older than 0:15:00; ask the gate again",
    ),
]


def test_the_refusal_table_is_not_empty() -> None:
    assert len(REFUSALS) == 8


@pytest.mark.parametrize(("ref", "wanted", "message"), REFUSALS)
def test_each_refusal_says_why(
    ref: DecisionRef | None, wanted: dict[str, str], message: str
) -> None:
    with pytest.raises(Refused) as info:
        authorise(ref, **wanted)
    assert (info.value.control, info.value.message) == ("CM-5", f"CM-5: {message}")


def test_a_rollback_goes_only_to_a_known_good_commit() -> None:
    check_rollback_target(SHA, {SHA, OTHER})
    with pytest.raises(Refused) as info:
        check_rollback_target(SHA, {OTHER})
    assert info.value.message == (
        "CM-5: 9fceb02d0ae5 never deployed successfully to this environment; "
        "a rollback goes only to a known-good commit"
    )
