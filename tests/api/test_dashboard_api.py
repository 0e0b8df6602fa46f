"""GET /api/v1/dashboard: the quarter's CM-6 metrics, the same the quarterly review previews;
every role reads it; a bad quarter is a 422 problem."""

from __future__ import annotations

import pytest

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
