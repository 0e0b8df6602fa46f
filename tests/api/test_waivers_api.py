"""Waivers over the API: request, joint approval, review, quarterly review, who may do what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, new_change

MAX = "max@example.com"  # holds both cab and iso


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Skip staging for the hotfix",
        "justification": "staging is down",
        "compensating_controls": "canary at 1% with automatic rollback",
        "controls": ["CM-4"],
        "scope_kind": "environment",
        "scope_value": "production",
        "days": 30,
    } | overrides


def requested(api: Api, **overrides: Any) -> str:
    made = api.call("requester", "POST", "/api/v1/waivers", json=body(**overrides))
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def decide(
    api: Api, who: str, key: str, role: str, decision: str = "approved", comment: str = ""
) -> httpx.Response:
    return api.call(
        who,
        "POST",
        f"/api/v1/waivers/{key}/approvals",
        json={"role": role, "decision": decision, "comment": comment},
    )


def test_request_then_joint_approval_activates(api: Api) -> None:
    change = new_change(api)
    key = requested(api, scope_kind="change", scope_value=change.lower())
    shown = api.call("auditor", "GET", f"/api/v1/waivers/{key}").json()
    assert (shown["status"], shown["scope"]["value"]) == ("requested", change)
    half = decide(api, "cab", key, "cab")
    assert half.status_code == 200 and half.json()["missing"] == ["the ISO's approval"]
    done = decide(api, "iso", key, "iso").json()
    assert done["status"] == "active" and len(done["periods"]) == 1
    assert done["expires_at"] is not None
    listed = api.call("hr", "GET", "/api/v1/waivers", params={"status": "active"}).json()
    assert [w["key"] for w in listed["items"]] == [key] and listed["total"] == 1
    assert api.call("auditor", "GET", "/api/v1/waivers?status=requested").json()["items"] == []


def test_segregation_of_duties(api: Api) -> None:
    key = requested(api)
    assert decide(api, "requester", key, "cab").status_code == 403
    assert decide(api, MAX, key, "cab").status_code == 200
    twice = decide(api, MAX, key, "iso")
    assert twice.status_code == 409 and twice.json()["control"] == "EXC-1"
    no_reason = decide(api, "iso", key, "iso", "rejected")
    assert no_reason.status_code == 422 and "needs a --comment" in no_reason.json()["detail"]
    rejected = decide(api, "iso", key, "iso", "rejected", "no monitoring")
    assert rejected.json()["status"] == "rejected"


@pytest.mark.parametrize(
    ("overrides", "status", "detail"),
    [
        ({"controls": ["CM-4", "XX-9"]}, 422, "unknown control 'XX-9'"),
        ({"controls": []}, 422, "controls"),
        ({"days": 0}, 422, "days"),
        ({"days": 91}, 409, "waivers.max_days"),
        ({"scope_kind": "team"}, 422, "scope_kind"),
        ({"scope_kind": "change", "scope_value": "CHG-404"}, 404, "no change CHG-404"),
        ({"justification": "   "}, 422, "--justification"),
        ({"unexpected": 1}, 422, "unexpected"),
    ],
)
def test_bad_requests_are_problems_and_write_nothing(
    api: Api, overrides: dict[str, Any], status: int, detail: str
) -> None:
    response = api.call("requester", "POST", "/api/v1/waivers", json=body(**overrides))
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]
    assert api.call("auditor", "GET", "/api/v1/waivers").json()["total"] == 0


def test_review_renews_into_a_fresh_round_or_closes(api: Api) -> None:
    first, second = requested(api), requested(api)
    for key in (first, second):
        decide(api, "cab", key, "cab")
        decide(api, "iso", key, "iso")
    notes = {"notes": "canary held"}
    assert (
        api.call(
            "requester",
            "POST",
            f"/api/v1/waivers/{first}/review",
            json={"outcome": "close"} | notes,
        ).status_code
        == 403
    )
    renewed = api.call(
        "cab",
        "POST",
        f"/api/v1/waivers/{first}/review",
        json={"outcome": "renew", "days": 7} | notes,
    )
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["status"], renewed.json()["round"]) == ("renewal", 2)
    assert renewed.json()["missing"] == ["a CAB approval", "the ISO's approval"]
    again = api.call(
        "iso", "POST", f"/api/v1/waivers/{first}/review", json={"outcome": "close"} | notes
    )
    assert again.status_code == 409
    closed = api.call(
        "iso", "POST", f"/api/v1/waivers/{second}/review", json={"outcome": "close"} | notes
    )
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]


def test_quarterly_review_is_the_isos(api: Api) -> None:
    requested(api)
    path = "/api/v1/waivers/quarterly-review"
    assert api.call("cab", "POST", path, json={"quarter": "2025-Q1"}).status_code == 403
    signed = api.call("iso", "POST", path, json={"quarter": "2025-q1"})
    assert signed.status_code == 201, signed.text
    assert signed.json()["period"] == "2025-Q1" and signed.json()["id"] >= 1
    assert signed.json()["report"]["quarter"] == "2025-Q1"
    future = api.call("iso", "POST", path, json={"quarter": "9998-Q4"})
    assert future.status_code == 409 and "has not ended yet" in future.json()["detail"]
    assert api.call("iso", "POST", path, json={"quarter": "2026-Q5"}).status_code == 422


def test_readers_and_keys(api: Api) -> None:
    key = requested(api)
    for who in ("requester", "cab", "iso", "security_engineer", "hr", "auditor", "admin"):
        assert api.call(who, "GET", f"/api/v1/waivers/{key.lower()}").status_code == 200, who
    assert api.call("pipeline", "GET", "/api/v1/waivers").status_code == 403
    assert api.call("auditor", "POST", "/api/v1/waivers", json=body()).status_code == 403
    assert api.call("hr", "POST", "/api/v1/waivers", json=body()).status_code == 403
    assert api.call("auditor", "GET", "/api/v1/waivers/WVR-99").status_code == 404
    assert api.call("auditor", "GET", "/api/v1/waivers/banana").status_code == 422
