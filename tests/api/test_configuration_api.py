"""Baselines and drift over the API."""

from __future__ import annotations

from changegate.services import tokens, users
from tests.api.conftest import Api

TEMPLATE = b"""Resources:
  Logs:
    Type: AWS::S3::Bucket
    Properties: {BucketName: logs-prod, AccelerateConfiguration: {AccelerationStatus: Enabled}}
"""


def item(status: str, at: str) -> dict[str, object]:
    return {
        "configurationItem": {
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": at,
            "configurationItemStatus": "OK",
            "resourceType": "AWS::S3::Bucket",
            "resourceId": "logs-prod",
            "awsAccountId": "123456789012",
            "awsRegion": "us-east-1",
            # As AWS Config records a bucket: accelerate is supplementary configuration.
            "configuration": {"name": "logs-prod", "owner": {"id": "0000"}},
            "supplementaryConfiguration": {"BucketAccelerateConfiguration": {"status": status}},
        },
        "messageType": "ConfigurationItemChangeNotification",
    }


def test_baseline_and_drift_over_the_api(api: Api) -> None:
    api.app.run(
        lambda ctx: users.add_user(ctx, "sec2@example.com", "S2", ["security_engineer"]),
        actor="local-admin",
    )
    api.secrets["sec2@example.com"] = api.app.run(
        lambda ctx: tokens.create_token(ctx, "sec2@example.com", "t", 1)[1], actor="local-admin"
    )
    made = api.call(
        "security_engineer",
        "POST",
        "/api/v1/baselines",
        data={"name": "logs"},
        files={"template": ("stack.yaml", TEMPLATE, "application/yaml")},
    )
    assert made.status_code == 201, made.text
    assert (
        api.call("security_engineer", "POST", "/api/v1/baselines/logs/approve", json={}).status_code
        == 409
    )
    ok = api.call("sec2@example.com", "POST", "/api/v1/baselines/logs/approve", json={})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    fed = api.call(
        "pipeline", "POST", "/api/v1/config/items", json=item("Suspended", "2026-11-20T10:00:00Z")
    )
    assert fed.json()["added"] == 1, fed.text
    scan = api.call("pipeline", "POST", "/api/v1/drift/scan").json()
    assert len(scan["opened"]) == 1
    [drift] = api.call("auditor", "GET", "/api/v1/drift").json()["items"]
    assert drift["differences"][0]["path"] == "/AccelerateConfiguration/AccelerationStatus"
    assert api.call("auditor", "POST", "/api/v1/drift/scan").status_code == 403


def test_nul_characters_are_bad_input_not_server_errors(api: Api) -> None:
    for path in (
        "/api/v1/drift?status=%00",
        "/api/v1/baselines/a%00b",
        "/api/v1/changes?status=%00",
    ):
        response = api.call("auditor", "GET", path)
        assert response.status_code == 400, (path, response.text)
    gate = api.call(
        "pipeline",
        "POST",
        "/api/v1/gate",
        json={"change": "CHG-1\u0000", "environment": "production", "commit": "a" * 40},
    )
    assert gate.status_code == 422 and "NUL" in gate.text
