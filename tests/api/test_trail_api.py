"""CloudTrail over the API (CM-5): EventBridge deliveries in, events and coverage out.

Deliveries are EventBridge "AWS API Call via CloudTrail" events (EventBridge user guide) whose
`detail` is a real record from tests/fixtures/cloudtrail, or a pipeline session's write built
from the documented fields (integrations.md section 1.1).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from changegate.cli.main import run
from changegate.policy import from_document
from tests.api.conftest import Api
from tests.conftest import local_decisions
from tests.fixtures import fixture
from tests.unit.test_trail_classify import DEPLOY_ROLE as ROLE
from tests.unit.test_trail_classify import call

WEB_IDENTITY = "ef0464cd-918e-4528-9ea3-1a081d39b393"


def envelope(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0c2f3d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": detail.get("eventTime", "2026-08-03T09:00:00Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def web_identity() -> dict[str, Any]:
    path = fixture(
        "cloudtrail",
        "ccbrown-cloud-snitch",
        "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
    )
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def pipeline_write(session: str, event_id: str) -> dict[str, Any]:
    """A write by the deploy role's session `session` (tests/unit/test_trail_classify.py)."""
    record = call(eventID=event_id, eventTime="2026-08-03T09:00:00Z")
    record["userIdentity"] = record["userIdentity"] | {
        "arn": f"arn:aws:sts::123456789012:assumed-role/gha-deployer/{session}"
    }
    return record


@pytest.fixture
def trail_api(api: Api) -> Api:
    policy = from_document(
        {
            "cloudtrail": {
                "accounts": [{"account": "123456789012", "environment": "production"}],
                "pipeline_roles": [ROLE],
            }
        },
        "test",
    )
    api.app.policy = local_decisions(policy)
    return api


def test_the_pipeline_delivers_eventbridge_events_once(trail_api: Api) -> None:
    body = [envelope(web_identity()), envelope(pipeline_write("chg-1-run-7", "e-1"))]
    first = trail_api.call("pipeline", "POST", "/api/v1/trail/events", json=body)
    assert first.status_code == 200, first.text
    got = first.json()
    assert (got["new"], got["reads"], got["changes"]) == (2, 1, 1)
    # No CHG-1 was deployed: the pipeline's write is covered by nothing yet.
    assert got["uncovered"] == ["e-1"] and got["notice"] is None
    again = trail_api.call("pipeline", "POST", "/api/v1/trail/events", json=body).json()
    assert (again["new"], again["seen"]) == (0, 2)
    listed = trail_api.call("auditor", "GET", "/api/v1/trail/events", params={"limit": 1})
    assert listed.status_code == 200 and listed.json()["total"] == 2
    shown = trail_api.call("iso", "GET", f"/api/v1/trail/events/{WEB_IDENTITY}").json()
    assert (shown["actor_kind"], shown["kind"], shown["needs_cover"]) == (
        "web-identity",
        "read",
        False,
    )
    explained = trail_api.call("auditor", "GET", "/api/v1/changes/chg-1/aws-events").json()
    assert [e["event_id"] for e in explained["items"]] == ["e-1"]
    uncovered = trail_api.call(
        "iso", "GET", "/api/v1/trail/events", params={"uncovered": "true"}
    ).json()
    assert [e["event_id"] for e in uncovered["items"]] == ["e-1"]


def test_who_may_deliver_and_read(trail_api: Api) -> None:
    refused = trail_api.call(
        "requester", "POST", "/api/v1/trail/events", json=envelope(web_identity())
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert trail_api.call("requester", "GET", "/api/v1/trail/events").status_code == 403
    assert trail_api.call("auditor", "GET", "/api/v1/trail/events/nope").status_code == 404


def test_bad_input_writes_nothing(trail_api: Api) -> None:
    for body in (b"{not json", b'"a string"'):
        bad = trail_api.client.post(
            "/api/v1/trail/events",
            content=body,
            headers={"Content-Type": "application/json"} | trail_api.as_("pipeline"),
        )
        assert 400 <= bad.status_code < 500, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
    assert trail_api.call("auditor", "GET", "/api/v1/trail/events").json()["total"] == 0


def test_trail_ingest_through_a_server(
    trail_api: Api,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CHANGEGATE_URL", server)
    monkeypatch.setenv("CHANGEGATE_TOKEN", trail_api.secrets["ci@example.com"])
    monkeypatch.setenv("CHANGEGATE_DATABASE_URL", "sqlite:////nonexistent/unused.db")
    sample = fixture(
        "cloudtrail", "otrf-security-datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"
    )
    capsys.readouterr()
    code = run(["trail", "ingest", str(sample), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    # Reads, data events and AWS's own calls: every one counted, none of them kept.
    assert (out["files"], out["new"], out["reads"], out["data"], out["services"]) == (
        1,
        0,
        89,
        9,
        5,
    )
    assert run(["trail", "ingest", "--bucket", "b"]) == 2  # local administration only
