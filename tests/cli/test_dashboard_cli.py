"""`changegate dashboard`: on the demo's seeded quarter it shows what the quarterly review
signs; bad input is one line and exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.conftest import Result

Cli = Callable[..., Result]


def test_the_demo_quarter_agrees_with_its_review(cli: Cli) -> None:
    seeded = cli("demo", "--seed-only")
    assert seeded.code == 0, seeded.err
    board = cli("dashboard", "--quarter", "2026-Q3", "--json")
    assert board.code == 0, board.err
    preview = cli("review", "metrics", "--quarter", "2026-Q3", "--preview", "--json")
    assert preview.code == 0, preview.err
    metrics = json.loads(board.out)["metrics"]
    assert metrics == json.loads(preview.out)["report"]
    # The demo's quarter: 50 changes, 5 of them emergencies; 40 implemented in the quarter.
    assert sum(metrics["changes_by_type"].values()) == 50
    assert metrics["emergencies"]["implemented"] == 5
    assert metrics["emergencies"]["changes_implemented"] == 40
    text = cli("dashboard", "--quarter", "2026-q3")
    assert text.code == 0, text.err
    assert "CM-6 metrics, 2026-Q3" in text.out and "Emergency share" in text.out


def test_a_bad_quarter_is_one_line_and_exit_2(cli: Cli) -> None:
    result = cli("dashboard", "--quarter", "2026-Q5")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and "not a quarter" in result.err
