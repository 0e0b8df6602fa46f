"""GET /api/v1/calendar: a bounded range of local days; every role reads it; a bad range is
a 422 problem, never a 5xx."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api.conftest import Api, approved_change, new_change
from tests.api.test_reviews_api import problem


def test_a_planned_change_is_on_its_week(api: Api) -> None:
    soon = api.app.now() + timedelta(days=2)
    window = {
        "window_start": soon.isoformat(),
        "window_end": (soon + timedelta(hours=1)).isoformat(),
    }
    key = approved_change(api, affected_services=["orders"], **window)
    other = new_change(api, affected_services=["orders"], **window)
    first = api.app.now().date()
    response = api.call(
        "auditor",
        "GET",
        "/api/v1/calendar",
        params={"from": first.isoformat(), "to": (first + timedelta(days=6)).isoformat()},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["key"] for c in body["changes"]] == [key, other]
    assert [(c["kind"], c["change"], c["other"], c["on"]) for c in body["conflicts"]] == [
        ("overlap", key, other, "orders")
    ]
    assert body["timezone"] == "UTC"
    assert any(key in [c["key"] for c in w["changes"]] for w in body["weeks"])


def test_by_default_four_weeks_from_this_monday(api: Api) -> None:
    body = api.call("pipeline", "GET", "/api/v1/calendar").json()
    first = date.fromisoformat(body["first"])
    assert first.weekday() == 0
    assert date.fromisoformat(body["last"]) - first == timedelta(days=27)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-12-31", "to": "2026-12-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
        {"from": "yesterday"},
        {"from": "2026-02-30"},
        {"from": "0001-01-01", "to": "0001-01-02"},
    ],
)
def test_a_bad_range_is_a_422_problem(api: Api, params: dict[str, str]) -> None:
    problem(api.call("requester", "GET", "/api/v1/calendar", params=params), 422)
