"""EXC-1 waivers: who may decide, when a round is complete, how long one lasts and what an active
one covers. Expected values are written by hand from the policy text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput, Forbidden, Refused
from changegate.domain.waivers import (
    Cover,
    ScopeKind,
    WaiverVote,
    Window,
    check_duration,
    check_may_decide,
    covering,
    missing,
    round_complete,
)

CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO
OK, NO = Decision.APPROVED, Decision.REJECTED
REQUESTER = "alice@example.com"
T = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def vote(who: str, role: ApprovalRole, decision: Decision = OK, round_: int = 1) -> WaiverVote:
    return WaiverVote(approver=who, role=role, decision=decision, round=round_)


def may_decide(who: str, role: ApprovalRole, votes: list[WaiverVote], round_: int = 1) -> None:
    check_may_decide(who, ["cab", "iso"], role, REQUESTER, votes, round_)


def test_a_decider_without_the_role_is_forbidden() -> None:
    with pytest.raises(Forbidden) as info:
        check_may_decide("bob@example.com", ["cab"], ISO, REQUESTER, [], 1)
    assert info.value.message == "bob@example.com does not hold the iso role"


def test_the_requester_may_not_decide() -> None:
    with pytest.raises(Refused) as info:
        may_decide(REQUESTER, CAB, [])
    assert info.value.message == (
        "EXC-1: alice@example.com requested this waiver and may not decide on it"
    )


def test_one_person_decides_a_round_once_whatever_the_role() -> None:
    votes = [vote("ivy@example.com", ISO), vote("max@example.com", CAB)]
    with pytest.raises(Refused) as info:
        may_decide("max@example.com", ISO, votes)
    assert info.value.message == (
        "EXC-1: max@example.com already decided this waiver as cab; "
        "a waiver needs two different people"
    )


def test_a_decision_in_an_earlier_round_does_not_bar_a_renewal() -> None:
    may_decide("max@example.com", CAB, [vote("max@example.com", CAB, round_=1)], round_=2)
    may_decide("max@example.com", CAB, [vote("bob@example.com", CAB)])


ROUNDS: list[tuple[list[WaiverVote], bool, list[str]]] = [
    ([], False, ["a CAB approval", "the ISO's approval"]),
    ([vote("bob@example.com", CAB)], False, ["the ISO's approval"]),
    ([vote("ivy@example.com", ISO)], False, ["a CAB approval"]),
    ([vote("bob@example.com", CAB), vote("ivy@example.com", ISO)], True, []),
    # The same person in both roles is one party, not two.
    ([vote("max@example.com", CAB), vote("max@example.com", ISO)], False, []),
    # Rejections and votes of another round do not count towards round 2.
    (
        [vote("bob@example.com", CAB, round_=2), vote("ivy@example.com", ISO, NO, round_=2)],
        False,
        ["the ISO's approval"],
    ),
    (
        [vote("bob@example.com", CAB, round_=1), vote("ivy@example.com", ISO, round_=2)],
        False,
        ["a CAB approval"],
    ),
]


def test_the_round_table_is_not_empty() -> None:
    assert len(ROUNDS) == 7


@pytest.mark.parametrize(("votes", "complete", "lacking"), ROUNDS)
def test_round_2_is_complete_with_two_people_approving(
    votes: list[WaiverVote], complete: bool, lacking: list[str]
) -> None:
    round_ = 2 if any(v.round == 2 for v in votes) else 1
    assert round_complete(votes, round_) is complete
    assert missing(votes, round_) == lacking


def test_a_waiver_lasts_from_one_day_to_the_policys_maximum() -> None:
    check_duration(1, 30)
    check_duration(30, 30)
    with pytest.raises(BadInput) as short:
        check_duration(0, 30)
    with pytest.raises(Refused) as long:
        check_duration(31, 30)
    assert short.value.message == "a waiver lasts at least 1 day, not 0"
    assert long.value.message == (
        "EXC-1: 31 days is longer than the policy allows for one approval "
        "(30 days, waivers.max_days)"
    )


def test_a_window_holds_from_its_start_up_to_its_end() -> None:
    window = Window(T, T + HOUR)
    assert [window.holds(at) for at in (T - HOUR / 60, T, T + HOUR / 2, T + HOUR)] == [
        False,
        True,
        True,
        False,
    ]


def cover(key: str, value: str = "CHG-7", kind: ScopeKind = ScopeKind.CHANGE) -> Cover:
    return Cover(key, frozenset({"CM-4", "CM-2"}), kind, value, (Window(T, T + HOUR),))


def test_a_cover_matches_control_scope_case_insensitively_and_window() -> None:
    scope = {"change": "chg-7", "environment": "production"}
    assert cover("WVR-1").covers("CM-4", scope, T) is True
    assert cover("WVR-1").covers("CM-5", scope, T) is False
    assert cover("WVR-1").covers("CM-4", {"environment": "production"}, T) is False
    assert cover("WVR-1", "CHG-8").covers("CM-4", scope, T) is False
    assert cover("WVR-1").covers("CM-4", scope, T + HOUR) is False


def test_the_lowest_numbered_waiver_covers_not_the_first_in_text_order() -> None:
    covers = [cover("WVR-10"), cover("WVR-9"), cover("WVR-2", "CHG-8")]
    assert covering(covers, "CM-2", {"change": "CHG-7"}, T) == "WVR-9"
    assert covering(covers, "CM-5", {"change": "CHG-7"}, T) is None
