"""The one way a status moves: look the (status, action) pair up in a transition table."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from changegate.domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


def step(
    table: Mapping[tuple[S, A], S], current: S, action: A, hint: str = "", subject: str = "change"
) -> S:
    try:
        return table[(current, action)]
    except KeyError:
        raise InvalidTransition(current.value, action.value, hint, subject) from None
