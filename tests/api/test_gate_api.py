"""The gate over the API: each missing precondition alone denies, naming its control."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import (
    JUNIT_FAIL,
    OTHER_SHA,
    SHA,
    Api,
    approved_change,
    gate,
    new_change,
    record_tests,
)


def failing(decision: dict[str, Any]) -> list[str]:
    return [r["control"] for r in decision["reasons"] if not r["ok"]]


def test_a_complete_change_is_allowed_and_recorded(api: Api) -> None:
    key = approved_change(api)
    assert record_tests(api, key).status_code == 201
    decision = gate(api, key)
    assert decision["allowed"] is True, decision
    assert failing(decision) == []
    assert {r["control"] for r in decision["reasons"]} == {
        "CM-5",
        "CM-1",
        "scope",
        "state",
        "CM-2",
        "window",
        "CM-4",
    }
    log = api.call("auditor", "GET", "/api/v1/ledger/verify").json()
    assert log["ok"] is True


@pytest.mark.parametrize(
    ("case", "control"),
    [
        ("not-pipeline", "CM-5"),
        ("no-approval", "CM-2"),
        ("no-tests", "CM-4"),
        ("failing-tests", "CM-4"),
        ("tests-for-other-commit", "CM-4"),
        ("tests-not-isolated", "CM-4"),
        ("unknown-change", "CM-1"),
        ("cancelled", "state"),
    ],
)
def test_each_missing_precondition_alone_denies(api: Api, case: str, control: str) -> None:
    key = (
        "CHG-999"
        if case == "unknown-change"
        else (new_change(api) if case == "no-approval" else approved_change(api))
    )
    if case == "no-approval":
        api.call("requester", "POST", f"/api/v1/changes/{key}/submit")
    if case not in {"no-tests", "unknown-change"}:
        env = "development" if case == "tests-not-isolated" else "staging"
        sha = OTHER_SHA if case == "tests-for-other-commit" else SHA
        report = JUNIT_FAIL if case == "failing-tests" else None
        recorded = record_tests(api, key, env, sha, **({"report": report} if report else {}))
        assert recorded.status_code == 201, recorded.text
    if case == "cancelled":
        api.call("requester", "POST", f"/api/v1/changes/{key}/cancel")
    decision = gate(api, key, who="requester" if case == "not-pipeline" else "pipeline")
    assert decision["allowed"] is False
    assert failing(decision) == [control], decision


def test_emergency_is_allowed_with_justification_and_owes_retro_and_pir(api: Api) -> None:
    key = new_change(api, type="emergency", justification="checkout down")
    api.call("requester", "POST", f"/api/v1/changes/{key}/submit")
    decision = gate(api, key)
    assert decision["allowed"] is True, decision
    assert decision["obligations"] == ["retroactive approval", "post-implementation review"]
    assert {r["control"] for r in decision["reasons"]} >= {"CM-3", "CM-4"}


def test_deployment_flow_implements_the_change(api: Api) -> None:
    key = approved_change(api)
    record_tests(api, key)
    decision = gate(api, key)
    body = {
        "change": key,
        "environment": "production",
        "commit": SHA,
        "run_url": "https://ci.example.com/run/1",
        "iac_path": "infra/stack.yaml",
        "iac_sha256": "a" * 64,
        "decision_id": decision["decision_id"],
    }
    started = api.call("pipeline", "POST", "/api/v1/deployments", json=body)
    assert started.status_code == 201, started.text
    again = api.call("pipeline", "POST", "/api/v1/deployments", json=body)
    assert again.status_code == 409 and "already used" in again.json()["detail"]
    done = api.call("pipeline", "POST", f"/api/v1/deployments/{started.json()['id']}/finish")
    assert done.status_code == 200 and done.json()["change_status"] == "implemented"


def test_production_deployment_without_decision_is_refused(api: Api) -> None:
    key = approved_change(api)
    r = api.call(
        "pipeline",
        "POST",
        "/api/v1/deployments",
        json={
            "change": key,
            "environment": "production",
            "commit": SHA,
            "run_url": "https://ci.example.com/run/1",
            "iac_path": "infra/stack.yaml",
        },
    )
    assert r.status_code == 409
    assert r.json()["control"] == "CM-5"
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("fields", "control", "says"),
    [
        ({"environments": ["staging"]}, "scope", "declares staging; production is not among them"),
        (
            {
                "window_start": "2030-01-07T09:00:00Z",
                "window_end": "2030-01-07T12:00:00Z",
            },
            "window",
            "is planned for 2030-01-07T09:00:00+00:00 to 2030-01-07T12:00:00+00:00; too early",
        ),
    ],
)
def test_the_gate_enforces_what_the_request_declares(
    api: Api, fields: dict[str, Any], control: str, says: str
) -> None:
    key = approved_change(api, **fields)
    assert record_tests(api, key).status_code == 201
    decision = gate(api, key)
    assert decision["allowed"] is False
    assert failing(decision) == [control], decision
    reason = next(r for r in decision["reasons"] if r["control"] == control)
    assert says in reason["message"]
