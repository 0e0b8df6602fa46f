"""Every field at its limit, through the flows that copy it into other columns (ledger
subjects, notification subjects, gate decisions, deployments): accepted, stored and read back
on both databases, never a server error. The widths live in one place (the columns); a value a
writer derives beyond one is cut on purpose (notification subjects), and anything longer than a
column is refused as bad input before PostgreSQL could refuse it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from changegate.db import models as m
from changegate.db.models import Notification
from tests.api.conftest import JUNIT_PASS, SHA, Api, approved_change, record_tests

LONG_TITLE = "T" * 300
LONG_TEXT = "x" * 20_000


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    return body


def test_every_field_at_its_limit_flows_through_without_error(api: Api) -> None:
    fields = {
        "title": LONG_TITLE,
        "scope": LONG_TEXT,
        "impact": LONG_TEXT,
        "rollback_plan": LONG_TEXT,
        "justification": LONG_TEXT,
        "customer_impact": LONG_TEXT,
        "ticket": "E" * 300,
        "environments": ["staging", "production"],
        "affected_services": ["s" * 100] * 100,
    }
    key = approved_change(api, **fields)
    shown = ok(api.call("auditor", "GET", f"/api/v1/changes/{key}"))
    assert shown["title"] == LONG_TITLE and shown["scope"] == LONG_TEXT
    assert record_tests(api, key, sha=SHA, report=JUNIT_PASS).status_code == 201
    gate = {"change": key, "environment": "production", "commit": SHA, "artifact": "a" * 200}
    decision = ok(api.call("pipeline", "POST", "/api/v1/gate", json=gate))
    deployment = {
        "change": key,
        "environment": "production",
        "commit": SHA,
        "run_url": "https://ci.example.com/" + "r" * 970,
        "artifact": "a" * 200,
        "iac_path": "i" * 500,
        "decision_id": decision["decision_id"],
    }
    assert api.call("pipeline", "POST", "/api/v1/deployments", json=deployment).status_code < 500

    waiver = {
        "title": LONG_TITLE,
        "justification": LONG_TEXT,
        "compensating_controls": LONG_TEXT,
        "controls": ["CM-4"],
        "scope_kind": "change",
        "scope_value": key,
        "days": 30,
    }
    made = ok(api.call("requester", "POST", "/api/v1/waivers", json=waiver), 201)
    for who in ("cab", "iso"):
        body = {"role": who, "decision": "approved", "comment": "c" * 5_000}
        ok(api.call(who, "POST", f"/api/v1/waivers/{made['key']}/approvals", json=body))
    subjects = api.app.run(
        lambda ctx: list(ctx.session.execute(select(Notification.subject)).scalars())
    )
    cut = [s for s in subjects if s.startswith(f"{made['key']} awaits")]
    assert cut and all(len(s) == 300 and s.endswith("…") for s in cut), cut
    assert ok(api.call("auditor", "GET", "/api/v1/ledger/verify"))["ok"] is True


def test_a_value_longer_than_its_column_is_bad_input_on_both_databases(api: Api) -> None:
    # The API's own limit is the column's: one character over is a 422 naming the field.
    too_long = api.call("requester", "POST", "/api/v1/changes", json={"title": "T" * 301})
    assert too_long.status_code == 422 and "title" in too_long.json()["detail"]


# Where each bounded API input is stored: its limit may not exceed the column's width, so the
# API refuses (422, naming the field) what the database could not hold. Text columns (Text) and
# inputs that are only compared, never stored, are not listed.
STORED_IN = {
    "AdoptIn.name": ["baselines.name"],
    "ApproveIn.change": ["baselines.change_key"],
    "Body_import_baseline_api_v1_baselines_post.name": ["baselines.name"],
    "Body_record_test_run_api_v1_changes__key__test_runs_post.environment": [
        "test_runs.environment"
    ],
    "Body_record_test_run_api_v1_changes__key__test_runs_post.commit": ["test_runs.commit"],
    "Body_record_test_run_api_v1_changes__key__test_runs_post.artifact": ["test_runs.artifact"],
    "Body_record_test_run_api_v1_changes__key__test_runs_post.doc_url": ["test_runs.doc_url"],
    "ChangeEditIn.title": ["changes.title"],
    "ChangeEditIn.ticket": ["changes.ticket"],
    "ChangeIn.title": ["changes.title"],
    "ChangeIn.ticket": ["changes.ticket"],
    "DeploymentIn.environment": ["deployments.environment"],
    "DeploymentIn.commit": ["deployments.commit"],
    "DeploymentIn.run_url": ["deployments.run_url"],
    "DeploymentIn.artifact": ["deployments.artifact"],
    "DeploymentIn.iac_path": ["deployments.iac_path"],
    "GateIn.change": ["gate_decisions.change_key"],
    "GateIn.environment": ["gate_decisions.environment"],
    "MeetingIn.title": ["cab_meetings.title"],
    "GateIn.commit": ["gate_decisions.commit"],
    "GateIn.artifact": ["gate_decisions.artifact"],
    "ResourceRefIn.type": ["baseline_resources.resource_type"],
    "ResourceRefIn.id": ["baseline_resources.resource_id"],
    "RollbackIn.to_commit": ["deployments.commit"],
    "RollbackIn.run_url": ["deployments.run_url"],
    "WaiverIn.title": ["waivers.title"],
    "WaiverIn.scope_value": ["waivers.scope_value"],
}


def test_every_stored_api_input_is_limited_to_its_columns_width(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    widths = {
        f"{t.name}.{c.name}": c.type.length
        for t in m.everything().metadata.tables.values()
        for c in t.columns
        if getattr(c.type, "length", None)
    }
    checked = 0
    for field, columns in STORED_IN.items():
        model, name = field.rsplit(".", 1)
        prop = schemas[model]["properties"][name]
        limit = prop.get("maxLength") or max(
            (v["maxLength"] for v in prop.get("anyOf", []) if "maxLength" in v), default=None
        )
        assert limit is not None, f"{field} has no maxLength"
        for column in columns:
            assert limit <= widths[column], (
                f"{field} allows {limit}; {column} holds {widths[column]}"
            )
            checked += 1
    assert checked >= 25
