"""CM-2 approvals: who may decide (SoD) and when the decisions add up (quorum by risk)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pytest

from changegate import policy
from changegate.domain.approvals import (
    ApprovalRole,
    Decision,
    Quorum,
    Tally,
    Vote,
    check_may_decide,
    check_version,
    tally,
)
from changegate.domain.changes import Risk
from changegate.domain.errors import Forbidden, Refused, VersionMoved

CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO
OK, NO = Decision.APPROVED, Decision.REJECTED

REQUESTER = "alice@example.com"
AUTHORS = ("dev@example.com", "dev2@example.com")


def vote(approver: str, role: ApprovalRole, decision: Decision = OK, version: int = 1) -> Vote:
    return Vote(approver=approver, role=role, decision=decision, version=version)


def decide(
    approver: str,
    roles: Sequence[str],
    role: ApprovalRole,
    votes: Sequence[Vote] = (),
    version: int = 1,
) -> None:
    check_may_decide(approver, roles, role, REQUESTER, AUTHORS, votes, version)


@cache
def default_policy() -> policy.Policy:
    return policy.load(None)


# --- quorum by risk, from the default policy -------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "quorum"),
    [
        (Risk.LOW, Quorum(cab=1, iso_required=True)),
        (Risk.MEDIUM, Quorum(cab=1, iso_required=True)),
        (Risk.HIGH, Quorum(cab=2, iso_required=True)),
    ],
)
def test_default_policy_quorum_by_risk(risk: Risk, quorum: Quorum) -> None:
    assert default_policy().quorum(risk) == quorum


ONE_CAB_AND_ISO = [vote("bob", CAB), vote("ivy", ISO)]
TWO_CAB_AND_ISO = [vote("bob", CAB), vote("carol", CAB), vote("ivy", ISO)]
TWO_CAB_NO_ISO = [vote("bob", CAB), vote("carol", CAB)]


@pytest.mark.parametrize(
    ("risk", "votes", "complete", "missing"),
    [
        (Risk.LOW, [], False, ["1 more CAB approval", "the ISO's approval"]),
        (Risk.LOW, ONE_CAB_AND_ISO, True, []),
        (Risk.LOW, [vote("bob", CAB)], False, ["the ISO's approval"]),
        (Risk.LOW, [vote("ivy", ISO)], False, ["1 more CAB approval"]),
        (Risk.MEDIUM, ONE_CAB_AND_ISO, True, []),
        (Risk.MEDIUM, TWO_CAB_NO_ISO, False, ["the ISO's approval"]),
        (Risk.HIGH, [], False, ["2 more CAB approvals", "the ISO's approval"]),
        (Risk.HIGH, ONE_CAB_AND_ISO, False, ["1 more CAB approval"]),
        (Risk.HIGH, TWO_CAB_NO_ISO, False, ["the ISO's approval"]),
        (Risk.HIGH, TWO_CAB_AND_ISO, True, []),
        (Risk.HIGH, [*TWO_CAB_AND_ISO, vote("cody", CAB)], True, []),
    ],
    ids=[
        "low-none",
        "low-met",
        "low-no-iso",
        "low-no-cab",
        "medium-met",
        "medium-no-iso",
        "high-none",
        "high-one-cab",
        "high-no-iso",
        "high-met",
        "high-over",
    ],
)
def test_quorum_by_risk(risk: Risk, votes: list[Vote], complete: bool, missing: list[str]) -> None:
    result = tally(votes, 1, default_policy().quorum(risk))
    assert result.complete is complete
    assert result.missing() == missing


def test_tally_records_who_counted() -> None:
    result = tally(TWO_CAB_AND_ISO, 1, Quorum(2))
    assert result == Tally(
        cab_approvers=("bob", "carol"),
        iso_approver="ivy",
        rejected_by=None,
        needed_cab=2,
        iso_required=True,
    )


def test_iso_not_required_completes_on_cab_alone() -> None:
    result = tally([vote("bob", CAB)], 1, Quorum(cab=1, iso_required=False))
    assert result.complete is True
    assert result.missing() == []


def test_cab_approval_does_not_stand_in_for_the_iso() -> None:
    # A CAB approval by someone who also holds the iso role is still only a CAB approval.
    result = tally([vote("max", CAB), vote("bob", CAB)], 1, Quorum(cab=1))
    assert result.iso_approver is None
    assert result.complete is False


@pytest.mark.parametrize(
    "rejection", [vote("carol", CAB, NO), vote("ivy2", ISO, NO)], ids=["cab-rejects", "iso-rejects"]
)
def test_a_rejection_blocks_even_a_met_quorum(rejection: Vote) -> None:
    result = tally([*ONE_CAB_AND_ISO, rejection], 1, Quorum(cab=1))
    assert result.rejected_by == rejection.approver
    assert len(result.cab_approvers) >= 1
    assert result.iso_approver == "ivy"
    assert result.complete is False
    # missing() lists outstanding approvals only; the rejection is reported via rejected_by
    assert result.missing() == []


def test_rejected_votes_are_not_counted_as_approvals() -> None:
    result = tally([vote("bob", CAB, NO), vote("ivy", ISO, NO)], 1, Quorum(cab=1))
    assert result.cab_approvers == ()
    assert result.iso_approver is None
    assert result.rejected_by == "bob"
    assert result.missing() == ["1 more CAB approval", "the ISO's approval"]


def test_votes_on_an_older_version_do_not_count() -> None:
    old = [vote("bob", CAB, version=1), vote("carol", CAB, version=1), vote("ivy", ISO, version=1)]
    assert tally(old, 1, Quorum(2)).complete is True
    result = tally(old, 2, Quorum(2))
    assert result.complete is False
    assert result.cab_approvers == ()
    assert result.iso_approver is None
    assert result.missing() == ["2 more CAB approvals", "the ISO's approval"]


def test_a_rejection_of_an_older_version_does_not_block_the_new_one() -> None:
    votes = [
        vote("carol", CAB, NO, version=1),
        vote("bob", CAB, version=2),
        vote("ivy", ISO, version=2),
    ]
    result = tally(votes, 2, Quorum(1))
    assert result.rejected_by is None
    assert result.complete is True


def test_only_current_version_votes_count_when_mixed() -> None:
    votes = [
        vote("bob", CAB, version=1),
        vote("carol", CAB, version=2),
        vote("ivy", ISO, version=1),
        vote("ivy", ISO, version=2),
    ]
    result = tally(votes, 2, Quorum(2))
    assert result.cab_approvers == ("carol",)
    assert result.iso_approver == "ivy"
    assert result.missing() == ["1 more CAB approval"]


@pytest.mark.parametrize(
    ("needed", "have", "text"),
    [
        (1, 0, ["1 more CAB approval"]),
        (2, 0, ["2 more CAB approvals"]),
        (3, 1, ["2 more CAB approvals"]),
        (3, 2, ["1 more CAB approval"]),
        (2, 2, []),
        (1, 3, []),
    ],
)
def test_missing_texts_for_cab(needed: int, have: int, text: list[str]) -> None:
    result = Tally(tuple(f"cab{i}" for i in range(have)), "ivy", None, needed, True)
    assert result.missing() == text
    assert result.complete is (not text)


@pytest.mark.parametrize(
    ("iso", "required", "text"),
    [
        (None, True, ["the ISO's approval"]),
        ("ivy", True, []),
        (None, False, []),
    ],
)
def test_missing_text_for_iso(iso: str | None, required: bool, text: list[str]) -> None:
    result = Tally(("bob",), iso, None, 1, required)
    assert result.missing() == text


# --- who may decide (SoD) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approver", "roles", "role"),
    [
        ("bob", ["cab"], CAB),
        ("ivy", ["iso"], ISO),
        ("max", ["cab", "iso"], CAB),
        ("max", ["cab", "iso"], ISO),
        ("max", ["requester", "cab"], CAB),
    ],
)
def test_a_holder_of_the_role_may_decide(
    approver: str, roles: list[str], role: ApprovalRole
) -> None:
    decide(approver, roles, role)  # raises if refused


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        ([], CAB),
        (["iso"], CAB),
        (["cab"], ISO),
        (["requester", "auditor", "admin"], ISO),
        (["CAB"], CAB),  # role names are lower case; no case folding here
    ],
)
def test_approver_lacking_the_role_is_forbidden(roles: list[str], role: ApprovalRole) -> None:
    with pytest.raises(Forbidden) as caught:
        decide("bob", roles, role)
    assert caught.value.message == f"bob does not hold the {role.value} role"


@pytest.mark.parametrize("role", [CAB, ISO])
def test_requester_may_not_decide(role: ApprovalRole) -> None:
    with pytest.raises(Refused) as caught:
        decide(REQUESTER, ["cab", "iso"], role)
    assert caught.value.control == "SoD"
    assert caught.value.message == (
        f"SoD: {REQUESTER} requested this change and may not decide on it"
    )


@pytest.mark.parametrize("author", AUTHORS)
@pytest.mark.parametrize("role", [CAB, ISO])
def test_commit_author_may_not_decide(author: str, role: ApprovalRole) -> None:
    with pytest.raises(Refused) as caught:
        decide(author, ["cab", "iso"], role)
    assert caught.value.control == "SoD"
    assert caught.value.message == (
        f"SoD: {author} authored this change (its commits or pull requests) "
        "and may not decide on it"
    )


@pytest.mark.parametrize(("first", "second"), [(CAB, ISO), (ISO, CAB)])
def test_one_person_cannot_be_both_cab_and_iso_on_one_version(
    first: ApprovalRole, second: ApprovalRole
) -> None:
    with pytest.raises(Refused) as caught:
        decide("max", ["cab", "iso"], second, [vote("max", first)])
    assert caught.value.control == "SoD"
    assert caught.value.message == (
        f"SoD: max already decided version 1 as {first.value}; "
        "one person's decision counts for one role only"
    )


@pytest.mark.parametrize("decision", [OK, NO])
@pytest.mark.parametrize("role", [CAB, ISO])
def test_one_person_decides_a_version_once_in_the_same_role(
    role: ApprovalRole, decision: Decision
) -> None:
    with pytest.raises(Refused) as caught:
        decide("max", ["cab", "iso"], role, [vote("max", role, decision)])
    assert caught.value.message == f"SoD: max already decided version 1 as {role.value}"


def test_a_rejection_also_counts_as_having_decided_in_a_role() -> None:
    with pytest.raises(Refused, match="one role only"):
        decide("max", ["cab", "iso"], ISO, [vote("max", CAB, NO)])


def test_cab_decider_of_version_1_may_decide_version_2_as_cab_again() -> None:
    # An edit makes a new version and voids earlier approvals, so the same person decides afresh.
    decide("bob", ["cab"], CAB, [vote("bob", CAB, version=1)], version=2)


def test_cab_decider_of_version_1_may_decide_version_2_as_iso() -> None:
    # Current behaviour: the one-role-per-person rule is per version, not per change.
    decide("max", ["cab", "iso"], ISO, [vote("max", CAB, version=1)], version=2)
    # ...and the tally of version 2 then counts max as its ISO, not as CAB.
    result = tally(
        [vote("max", CAB, version=1), vote("max", ISO, version=2), vote("bob", CAB, version=2)],
        2,
        Quorum(1),
    )
    assert result.iso_approver == "max"
    assert result.cab_approvers == ("bob",)
    assert result.complete is True


def test_other_peoples_votes_do_not_block() -> None:
    votes = [vote("bob", CAB), vote("carol", CAB), vote("ivy", ISO, NO)]
    decide("cody", ["cab"], CAB, votes)
    decide("max", ["cab", "iso"], ISO, votes)


def test_an_own_vote_listed_after_others_still_counts() -> None:
    votes = [vote("bob", CAB), vote("max", CAB, version=0), vote("max", CAB)]
    with pytest.raises(Refused) as caught:
        decide("max", ["cab", "iso"], ISO, votes)
    assert caught.value.message == (
        "SoD: max already decided version 1 as cab; one person's decision counts for one role only"
    )


def test_a_decision_on_the_current_version_passes() -> None:
    check_version("CHG-7", 3, 3)


def test_a_decision_on_an_older_version_is_told_the_current_one() -> None:
    with pytest.raises(VersionMoved) as caught:
        check_version("CHG-7", 2, 3)
    assert caught.value.message == (
        "CHG-7 is at version 3; you decided on version 2, which is no longer current: "
        "read version 3 and decide again"
    )
    assert caught.value.extra == {"key": "CHG-7", "your_version": 2, "current_version": 3}
