"""`changegate calendar`: the demo's quarter by week; bad input is one line and exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]


def test_the_demo_quarter_by_week(cli: Cli) -> None:
    seeded = cli("demo", "--seed-only")
    assert seeded.code == 0, seeded.err
    result = cli("calendar", "--from", "2026-07-01", "--to", "2026-09-30", "--json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [w["week"] for w in out["weeks"]][0::13] == ["2026-W27", "2026-W40"]
    planned = {c["key"] for c in out["changes"]}
    assert planned and planned == {c["key"] for w in out["weeks"] for c in w["changes"]}
    text = cli("calendar", "--from", "2026-07-06", "--to", "2026-07-12")
    assert text.code == 0 and "2026-W28 (from 2026-07-06, UTC)" in text.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-07-41"), "--from: not a day"),
        (("--from", "2026-07-01", "--to", "2026-01-01"), "ends (2026-01-01) before"),
        (("--from", "2026-01-01", "--to", "2026-12-31"), "at most 92 days"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("calendar", *args)
    assert result.code == 2
    assert message in result.err and result.err.strip().count("\n") == 0
