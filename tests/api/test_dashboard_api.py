"""GET /api/v1/dashboard: the quarter's CM-6 metrics, the same the quarterly review previews;
every role reads it; a bad quarter is a 422 problem. The CLI reads it, and the calendar, over
HTTP too."""

from __future__ import annotations

import json

import pytest

from changegate.cli.main import run
from changegate.domain.periods import quarter_of
from tests.api.conftest import Api
from tests.api.test_reviews_api import problem


def test_the_dashboard_shows_what_the_review_would_sign(api: Api) -> None:
    board = api.call("auditor", "GET", "/api/v1/dashboard", params={"quarter": "2026-q3"})
    assert board.status_code == 200, board.text
    body = board.json()
    preview = api.call("iso", "GET", "/api/v1/reviews/quarterly-metrics/2026-Q3/preview").json()
    assert body["quarter"] == "2026-Q3"
    assert body["metrics"] == preview["report"]
    assert len(body["deployments_by_week"]) == 14
    assert [t["metric"] for t in body["tiles"]][:2] == [
        "production_deployments.approved_before_percent",
        "production_deployments.tested_before_percent",
    ]


def test_without_a_quarter_it_is_the_running_one(api: Api) -> None:
    body = api.call("pipeline", "GET", "/api/v1/dashboard").json()
    assert body["quarter"] == quarter_of(api.app.now())


@pytest.mark.parametrize("quarter", ["2026-Q5", "26-Q1", "1969-Q4", "2026Q1"])
def test_a_bad_quarter_is_a_422_problem(api: Api, quarter: str) -> None:
    problem(api.call("requester", "GET", "/api/v1/dashboard", params={"quarter": quarter}), 422)


def test_the_cli_reads_the_dashboard_and_the_calendar_over_http(
    api: Api, server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_TOKEN", api.secrets["aud@example.com"])
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")

    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, err = cli("dashboard", "--quarter", "2026-q3", "--json")
    assert code == 0, err
    preview = api.call("iso", "GET", "/api/v1/reviews/quarterly-metrics/2026-Q3/preview").json()
    assert json.loads(out)["metrics"] == preview["report"]
    code, out, err = cli("calendar", "--from", "2026-12-01", "--to", "2026-12-31", "--json")
    assert code == 0, err
    assert json.loads(out)["weeks"][0]["week"] == "2026-W49"
    code, _, err = cli("calendar", "--from", "2026-12-31", "--to", "2026-12-01")
    assert code == 2 and "before it starts" in err
