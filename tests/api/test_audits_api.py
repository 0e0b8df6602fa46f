"""Audits and findings over HTTP: who may run, decide, discipline and read what."""

from __future__ import annotations

from tests.api.conftest import SHA, Api, approved_change, gate
from tests.builders import T0
from tests.services.test_audits import add_drift


def raised(api: Api) -> dict[str, dict[str, object]]:
    add_drift(api.app, T0)
    response = api.call("iso", "POST", "/api/v1/audits", json={"period": "2026-Q4"})
    assert response.status_code == 201, response.text
    return {f["rule"]: f for f in response.json()["findings"]}


def test_iso_runs_confirms_hr_disciplines_auditor_sees_existence(api: Api) -> None:
    key = raised(api)["CFG-4.drift-overdue"]["key"]
    confirmed = api.call("iso", "POST", f"/api/v1/findings/{key}/confirm", json={})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["remediation_due_at"] is not None
    made = api.call(
        "hr",
        "POST",
        f"/api/v1/findings/{key}/disciplinary-actions",
        json={"person": "alice@example.com", "action": "warning", "notes": "n"},
    )
    assert made.status_code == 201, made.text
    auditor = api.call("auditor", "GET", f"/api/v1/findings/{key}").json()
    assert auditor["disciplinary_actions"] is None and auditor["disciplinary_action_count"] == 1
    iso = api.call("iso", "GET", f"/api/v1/findings/{key}").json()
    assert iso["disciplinary_actions"][0]["person"] == "alice@example.com"
    assert {n["role"] for n in iso["notifications"]} >= {"iso", "hr"}


def test_preview_is_open_to_auditors_and_matches(api: Api) -> None:
    stored = api.call("iso", "POST", "/api/v1/audits", json={"period": "2026-Q4"}).json()
    preview = api.call(
        "auditor", "GET", "/api/v1/audits/preview", params={"period": "2026-Q4"}
    ).json()
    assert preview["run"]["digest"] == stored["run"]["digest"]
    runs = api.call("auditor", "GET", "/api/v1/audits").json()
    assert [r["period"] for r in runs["items"]] == ["2026-Q4"] and runs["total"] == 1


def test_bad_input_is_a_problem_document(api: Api) -> None:
    bad = api.call("iso", "POST", "/api/v1/audits", json={"period": "2026-Q7"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    missing = api.call("iso", "POST", "/api/v1/findings/FND-404/confirm", json={})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    refused = api.call("iso", "POST", "/api/v1/findings/FND-1/dismiss", json={"reason": ""})
    assert refused.status_code == 422


def test_dismissal_needs_the_iso(api: Api) -> None:
    key = next(iter(raised(api).values()))["key"]
    assert (
        api.call(
            "cab", "POST", f"/api/v1/findings/{key}/dismiss", json={"reason": "no"}
        ).status_code
        == 403
    )
    done = api.call("iso", "POST", f"/api/v1/findings/{key}/dismiss", json={"reason": "test"})
    assert done.json()["status"] == "dismissed"
    again = api.call("iso", "POST", f"/api/v1/findings/{key}/confirm", json={})
    assert again.status_code == 409


def waive(api: Api, controls: list[str], kind: str, value: str) -> str:
    made = api.call(
        "requester",
        "POST",
        "/api/v1/waivers",
        json={
            "title": "staging cluster rebuild",
            "justification": "staging is down for 3 days",
            "compensating_controls": "the ISO reviews each production deploy",
            "controls": controls,
            "scope_kind": kind,
            "scope_value": value,
            "days": 3,
        },
    )
    assert made.status_code == 201, made.text
    key = str(made.json()["key"])
    for role in ("cab", "iso"):
        decided = api.call(
            role,
            "POST",
            f"/api/v1/waivers/{key}/approvals",
            json={"role": role, "decision": "approved"},
        )
        assert decided.status_code == 200, decided.text
    return key


def test_a_waiver_lets_the_gate_pass_and_suppresses_the_finding(api: Api) -> None:
    key = approved_change(api)
    assert not gate(api, key)["allowed"]  # no staging evidence (CM-4)
    other = approved_change(api)
    waiver = waive(api, ["CM-4"], "change", key)
    decision = gate(api, key)
    assert decision["allowed"] is True, decision
    cm4 = next(r for r in decision["reasons"] if r["control"] == "CM-4")
    assert cm4["waiver"] == waiver and cm4["message"].startswith(f"waived by {waiver}")
    assert not gate(api, other)["allowed"]  # the waiver's scope is one change only
    started = api.call(
        "pipeline",
        "POST",
        "/api/v1/deployments",
        json={
            "change": key,
            "environment": "production",
            "commit": SHA,
            "run_url": "https://ci.example.com/run/7",
            "iac_path": "infra/stack.yaml",
            "iac_sha256": "b" * 64,
            "decision_id": decision["decision_id"],
        },
    )
    assert started.status_code == 201, started.text
    audit = api.call("iso", "POST", "/api/v1/audits", json={}).json()
    [cm4_finding] = [f for f in audit["findings"] if f["rule"] == "CM-4.no-staging-evidence"]
    assert (cm4_finding["status"], cm4_finding["waiver"]) == ("suppressed", waiver)
