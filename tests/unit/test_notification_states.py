"""The outbox's statuses: delivered is final; a dead letter comes back only by retry."""

from __future__ import annotations

import itertools

import pytest

from changegate.domain.errors import InvalidTransition
from changegate.domain.notifications import (
    NotificationAction,
    NotificationStatus,
    after_failure,
    transition,
)

S, A = NotificationStatus, NotificationAction
ALLOWED = {
    (S.PENDING, A.DELIVER): S.DELIVERED,
    (S.PENDING, A.FAIL): S.PENDING,
    (S.PENDING, A.GIVE_UP): S.DEAD,
    (S.PENDING, A.RETRY): S.PENDING,
    (S.DEAD, A.RETRY): S.PENDING,
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(S, A)))
def test_every_pair(status: NotificationStatus, action: NotificationAction) -> None:
    if (status, action) in ALLOWED:
        assert transition(status, action) is ALLOWED[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            transition(status, action)


def test_the_last_attempt_gives_up() -> None:
    assert [after_failure(n, 12) for n in (1, 11, 12, 13)] == [A.FAIL, A.FAIL, A.GIVE_UP, A.GIVE_UP]
