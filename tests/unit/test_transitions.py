"""The change request's one transition table, checked against the full (status, action) product."""

from __future__ import annotations

import itertools

import pytest

from changegate.domain.changes import (
    HINTS,
    TRANSITIONS,
    Action,
    ChangeStatus,
    ChangeType,
    implement_action,
    transition,
)
from changegate.domain.errors import InvalidTransition, Refused

S, A = ChangeStatus, Action

# Written out by hand (not read from TRANSITIONS) so that an edit to the table has to be
# mirrored here on purpose.
ALLOWED: dict[tuple[ChangeStatus, Action], ChangeStatus] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.SUBMITTED, A.EDIT): S.SUBMITTED,
    (S.SUBMITTED, A.APPROVE): S.APPROVED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.IMPLEMENT_EMERGENCY): S.IMPLEMENTED,
    (S.SUBMITTED, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.EDIT): S.SUBMITTED,
    (S.APPROVED, A.IMPLEMENT): S.IMPLEMENTED,
    (S.APPROVED, A.IMPLEMENT_EMERGENCY): S.IMPLEMENTED,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.REJECTED, A.EDIT): S.DRAFT,
    (S.REJECTED, A.CANCEL): S.CANCELLED,
    (S.IMPLEMENTED, A.CLOSE): S.CLOSED,
}

ALL_PAIRS = list(itertools.product(ChangeStatus, Action))
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


def _id(pair: tuple[ChangeStatus, Action]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def test_the_enums_are_the_ones_this_file_was_written_for() -> None:
    # A new status or action lands in REFUSED_PAIRS automatically; this makes it visible too.
    assert [s.value for s in ChangeStatus] == [
        "draft",
        "submitted",
        "approved",
        "rejected",
        "implemented",
        "closed",
        "cancelled",
    ]
    assert [a.value for a in Action] == [
        "submit",
        "edit",
        "approve",
        "reject",
        "implement",
        "implement_emergency",
        "close",
        "cancel",
    ]
    assert len(ALL_PAIRS) == 7 * 8


def test_the_table_is_exactly_the_allowed_set() -> None:
    assert dict(TRANSITIONS) == ALLOWED


@pytest.mark.parametrize(("pair", "target"), list(ALLOWED.items()), ids=[_id(p) for p in ALLOWED])
def test_allowed_transition_gives_the_target(
    pair: tuple[ChangeStatus, Action], target: ChangeStatus
) -> None:
    assert transition(*pair) is target


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=[_id(p) for p in REFUSED_PAIRS])
def test_every_other_pair_is_refused(pair: tuple[ChangeStatus, Action]) -> None:
    current, action = pair
    with pytest.raises(InvalidTransition) as caught:
        transition(current, action)
    err = caught.value
    assert isinstance(err, Refused)
    assert err.control == "state"
    assert err.current == current.value
    assert err.action == action.value
    assert err.message.startswith(f"state: cannot {action.value} a change that is {current.value}")


@pytest.mark.parametrize("status", [S.CLOSED, S.CANCELLED])
def test_terminal_states_allow_nothing(status: ChangeStatus) -> None:
    assert not [a for a in Action if (status, a) in TRANSITIONS]


def test_every_hint_is_on_a_refused_pair() -> None:
    assert not set(HINTS) & set(TRANSITIONS)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (
            (S.SUBMITTED, A.IMPLEMENT),
            "state: cannot implement a change that is submitted; "
            "CM-2: a normal change may be implemented only once approved",
        ),
        (
            (S.DRAFT, A.IMPLEMENT),
            "state: cannot implement a change that is draft; "
            "submit it and have it approved first (CM-2)",
        ),
        (
            (S.DRAFT, A.IMPLEMENT_EMERGENCY),
            "state: cannot implement_emergency a change that is draft; "
            "even an emergency change is submitted first (CM-1)",
        ),
        # no hint: the bare message, no trailing separator
        ((S.CLOSED, A.EDIT), "state: cannot edit a change that is closed"),
        ((S.REJECTED, A.IMPLEMENT), "state: cannot implement a change that is rejected"),
    ],
    ids=[
        "submitted-implement",
        "draft-implement",
        "draft-implement_emergency",
        "closed-edit",
        "rejected-implement",
    ],
)
def test_refusals_carry_their_hint(pair: tuple[ChangeStatus, Action], message: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(*pair)
    assert caught.value.message == message
    assert str(caught.value) == message


# implement_action: what "implement" means for each type in each status, and where that leads.
IMPLEMENT_CASES: list[tuple[ChangeType, ChangeStatus, Action, ChangeStatus | None]] = [
    (ChangeType.NORMAL, S.DRAFT, A.IMPLEMENT, None),
    (ChangeType.NORMAL, S.SUBMITTED, A.IMPLEMENT, None),
    (ChangeType.NORMAL, S.APPROVED, A.IMPLEMENT, S.IMPLEMENTED),
    (ChangeType.NORMAL, S.REJECTED, A.IMPLEMENT, None),
    (ChangeType.NORMAL, S.IMPLEMENTED, A.IMPLEMENT, None),
    (ChangeType.NORMAL, S.CLOSED, A.IMPLEMENT, None),
    (ChangeType.NORMAL, S.CANCELLED, A.IMPLEMENT, None),
    (ChangeType.EMERGENCY, S.DRAFT, A.IMPLEMENT_EMERGENCY, None),
    (ChangeType.EMERGENCY, S.SUBMITTED, A.IMPLEMENT_EMERGENCY, S.IMPLEMENTED),
    (ChangeType.EMERGENCY, S.APPROVED, A.IMPLEMENT, S.IMPLEMENTED),
    (ChangeType.EMERGENCY, S.REJECTED, A.IMPLEMENT, None),
    (ChangeType.EMERGENCY, S.IMPLEMENTED, A.IMPLEMENT, None),
    (ChangeType.EMERGENCY, S.CLOSED, A.IMPLEMENT, None),
    (ChangeType.EMERGENCY, S.CANCELLED, A.IMPLEMENT, None),
]


def test_implement_cases_cover_every_type_and_status() -> None:
    covered = {(kind, status) for kind, status, _, _ in IMPLEMENT_CASES}
    assert covered == set(itertools.product(ChangeType, ChangeStatus))


@pytest.mark.parametrize(
    ("kind", "status", "action", "target"),
    IMPLEMENT_CASES,
    ids=[f"{k.value}-{s.value}" for k, s, _, _ in IMPLEMENT_CASES],
)
def test_implement_action(
    kind: ChangeType, status: ChangeStatus, action: Action, target: ChangeStatus | None
) -> None:
    assert implement_action(kind, status) is action
    if target is None:
        with pytest.raises(InvalidTransition):
            transition(status, action)
    else:
        assert transition(status, action) is target


def test_normal_change_implemented_from_submitted_is_refused_naming_cm2() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(S.SUBMITTED, implement_action(ChangeType.NORMAL, S.SUBMITTED))
    assert "CM-2" in caught.value.message
    assert "only once approved" in caught.value.message


def test_emergency_draft_is_told_to_submit_not_to_get_approved() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(S.DRAFT, implement_action(ChangeType.EMERGENCY, S.DRAFT))
    assert "even an emergency change is submitted first (CM-1)" in caught.value.message
