"""Bounded documents: depth and NUL, with the boundary values written out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changegate.domain.documents import (
    MAX_DEPTH,
    check_depth,
    check_instant,
    has_nul,
    loads_json,
)
from changegate.domain.errors import BadInput


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_a_document_at_the_limit_is_read_and_one_deeper_is_refused() -> None:
    assert MAX_DEPTH == 100
    assert loads_json(nested(100), "at-limit.json") is not None
    with pytest.raises(BadInput, match=r"^deeper.json: nested too deeply \(over 100 levels\)$"):
        loads_json(nested(101), "deeper.json")


def test_far_deeper_than_the_parser_recurses_is_the_same_message() -> None:
    with pytest.raises(BadInput, match="nested too deeply"):
        loads_json(nested(200_000), "body")
    with pytest.raises(BadInput, match="nested too deeply"):
        loads_json(b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "body")


def test_mappings_count_as_levels_too() -> None:
    value: object = "leaf"
    for _ in range(101):
        value = {"k": value}
    with pytest.raises(BadInput):
        check_depth(value, "item")
    assert check_depth({"k": [{"k": "v"}]}, "item") == {"k": [{"k": "v"}]}


def test_malformed_json_is_still_the_callers_to_name() -> None:
    with pytest.raises(ValueError, match="line 1 column 2"):
        loads_json("{", "body")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"title": "a\x00b"}, True),
        ({"a\x00": "key"}, True),
        ({"deep": [[{"x": ["\x00"]}]]}, True),
        ({"title": "a\\u0000b"}, False),  # the six characters, typed as text
        ({"title": "plain", "n": 1, "none": None}, False),
    ],
)
def test_nul_is_found_anywhere_and_only_a_real_nul(value: object, expected: bool) -> None:
    assert has_nul(value) is expected


def test_a_scalar_beside_a_deep_branch_does_not_end_the_check() -> None:
    deep: object = []
    for _ in range(101):
        deep = [deep]
    with pytest.raises(BadInput):
        check_depth([deep, 1], "item")
    with pytest.raises(BadInput):
        check_depth({"a": deep, "b": "leaf"}, "item")


def test_too_deep_for_the_parser_names_the_source() -> None:
    with pytest.raises(BadInput) as caught:
        loads_json("[" * 200_000 + "]" * 200_000, "webhook body")
    assert caught.value.message == "webhook body: nested too deeply (over 100 levels)"


INSTANTS = [
    (datetime(1970, 1, 1, tzinfo=UTC), True),
    (datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), False),
    (datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC), True),
    (datetime(9000, 1, 1, tzinfo=UTC), False),
]


def test_the_instants_are_not_empty() -> None:
    assert len(INSTANTS) == 4


@pytest.mark.parametrize(("instant", "accepted"), INSTANTS)
def test_an_instant_lies_from_1970_up_to_9000(instant: datetime, accepted: bool) -> None:
    if accepted:
        assert check_instant(instant, "window start") is instant
        return
    with pytest.raises(BadInput) as caught:
        check_instant(instant, "window start")
    assert caught.value.message == f"window start: {instant.isoformat()} is outside 1970 to 9000"
