"""The whole matrix: every route x every role, plus no token, a bad token, a revoked one."""

from __future__ import annotations

from typing import Any

import pytest

from changegate.db.tokens import Tokens
from changegate.domain.users import Role
from changegate.services import tokens
from tests.api.conftest import JUNIT_PASS, ROLE_PEOPLE, SHA, Api, approved_change

GATE_DENIAL = "needs one of the roles"

# Who may call what, written out here as the oracle (reviewed against DESIGN.md's roles: auditors
# and HR read, only HR records discipline, only pipelines record evidence and deployments, only
# CAB and the ISO decide). The enforcement reads each route's `x-roles`; this table does not, so
# a route whose roles change must change here too, on purpose.
EVERYONE = "admin auditor cab hr iso pipeline requester security_engineer"
PEOPLE = "admin auditor cab hr iso requester security_engineer"
EXPECTED: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/audits"): "admin iso",
    ("GET", "/api/v1/audits"): "admin auditor cab hr iso security_engineer",
    ("GET", "/api/v1/audits/preview"): "admin auditor iso",
    ("POST", "/api/v1/baselines"): "admin requester security_engineer",
    ("GET", "/api/v1/baselines"): EVERYONE,
    ("POST", "/api/v1/baselines/adopt"): "admin requester security_engineer",
    ("POST", "/api/v1/baselines/verify"): "security_engineer",
    ("GET", "/api/v1/baselines/{name}"): EVERYONE,
    ("POST", "/api/v1/baselines/{name}/approve"): "security_engineer",
    ("POST", "/api/v1/changes"): "requester",
    ("POST", "/api/v1/cab/meetings"): "cab iso",
    ("GET", "/api/v1/cab/meetings"): EVERYONE,
    ("GET", "/api/v1/cab/meetings/{meeting_id}"): EVERYONE,
    ("POST", "/api/v1/cab/meetings/{meeting_id}/attendance"): "cab iso",
    ("POST", "/api/v1/cab/meetings/{meeting_id}/close"): "cab iso",
    ("POST", "/api/v1/cab/meetings/{meeting_id}/decisions"): "cab iso",
    ("PUT", "/api/v1/cab/meetings/{meeting_id}/minutes"): "cab iso",
    ("GET", "/api/v1/cab/meetings/{meeting_id}/minutes-document"): EVERYONE,
    ("GET", "/api/v1/calendar"): EVERYONE,
    ("GET", "/api/v1/changes"): EVERYONE,
    ("GET", "/api/v1/changes/overdue"): EVERYONE,
    ("GET", "/api/v1/changes/{key}"): EVERYONE,
    ("PATCH", "/api/v1/changes/{key}"): "requester",
    ("POST", "/api/v1/changes/{key}/approvals"): "cab iso",
    ("POST", "/api/v1/changes/{key}/cancel"): "requester",
    ("POST", "/api/v1/changes/{key}/close"): "cab iso requester",
    ("GET", "/api/v1/changes/{key}/deployments"): EVERYONE,
    ("POST", "/api/v1/changes/{key}/implement"): "pipeline requester",
    ("POST", "/api/v1/changes/{key}/pir"): "cab iso requester",
    ("POST", "/api/v1/changes/{key}/submit"): "requester",
    ("POST", "/api/v1/changes/{key}/test-runs"): "pipeline",
    ("GET", "/api/v1/changes/{key}/test-runs"): EVERYONE,
    ("GET", "/api/v1/config/items"): EVERYONE,
    ("POST", "/api/v1/config/items"): "admin pipeline security_engineer",
    ("POST", "/api/v1/deployments"): "pipeline",
    ("POST", "/api/v1/deployments/{deployment_id}/fail"): "pipeline",
    ("POST", "/api/v1/deployments/{deployment_id}/finish"): "pipeline",
    ("POST", "/api/v1/deployments/{deployment_id}/rollback"): "pipeline",
    ("GET", "/api/v1/dashboard"): EVERYONE,
    ("GET", "/api/v1/drift"): EVERYONE,
    ("POST", "/api/v1/drift/scan"): "admin pipeline security_engineer",
    ("GET", "/api/v1/drift/{drift_id}"): EVERYONE,
    ("GET", "/api/v1/findings"): "admin auditor cab hr iso security_engineer",
    ("GET", "/api/v1/findings/{key}"): "admin auditor cab hr iso security_engineer",
    ("POST", "/api/v1/findings/{key}/confirm"): "iso",
    ("POST", "/api/v1/findings/{key}/disciplinary-actions"): "hr",
    ("POST", "/api/v1/findings/{key}/dismiss"): "iso",
    ("POST", "/api/v1/findings/{key}/remediate"): "iso security_engineer",
    ("POST", "/api/v1/gate"): "admin cab iso pipeline requester security_engineer",
    ("GET", "/api/v1/gate/decisions/{decision_id}"): EVERYONE,
    ("GET", "/api/v1/inbox"): EVERYONE,
    ("GET", "/api/v1/ledger/verify"): EVERYONE,
    ("POST", "/api/v1/ledger/state-verifications"): "admin iso",
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/policy"): EVERYONE,
    ("GET", "/api/v1/reviews"): EVERYONE,
    ("POST", "/api/v1/reviews/quarterly-metrics"): "iso",
    ("GET", "/api/v1/reviews/quarterly-metrics/{quarter}/preview"): "admin auditor iso",
    ("POST", "/api/v1/reviews/policy-annual"): "iso",
    ("GET", "/api/v1/reviews/policy-annual/{year}/preview"): "admin auditor iso",
    ("POST", "/api/v1/reviews/config-annual"): "iso",
    ("GET", "/api/v1/reviews/config-annual/{year}/preview"): "admin auditor iso",
    ("GET", "/api/v1/reviews/{review_id}"): EVERYONE,
    ("GET", "/api/v1/reviews/{review_id}/report.html"): EVERYONE,
    ("GET", "/api/v1/reviews/{review_id}/report.pdf"): EVERYONE,
    ("GET", "/api/v1/status"): EVERYONE,
    ("GET", "/api/v1/users"): PEOPLE,
    ("GET", "/api/v1/waivers"): PEOPLE,
    ("POST", "/api/v1/waivers"): "admin cab iso requester security_engineer",
    ("POST", "/api/v1/waivers/quarterly-review"): "iso",
    ("GET", "/api/v1/waivers/{key}"): PEOPLE,
    ("POST", "/api/v1/waivers/{key}/approvals"): "cab iso",
    ("POST", "/api/v1/waivers/{key}/review"): "cab iso",
    # CloudTrail (CM-5): the pipeline and admins feed it; those who read findings read it.
    ("POST", "/api/v1/trail/events"): "admin pipeline",
    ("GET", "/api/v1/trail/events"): "admin auditor cab hr iso security_engineer",
    ("GET", "/api/v1/trail/events/{event_id}"): "admin auditor cab hr iso security_engineer",
    ("GET", "/api/v1/changes/{key}/aws-events"): "admin auditor cab hr iso security_engineer",
}


def routes(api: Api) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, item in api.client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method, op in item.items():
            found.append((method.upper(), path, op.get("x-roles")))
    return sorted(found)


def request_for(method: str, path: str, key: str) -> dict[str, Any]:
    if path.startswith("/api/v1/findings/"):
        key = "FND-1"
    url = (
        path.replace("{key}", key)
        .replace("{deployment_id}", "1")
        .replace("{name}", "b")
        .replace("{drift_id}", "1")
        .replace("{review_id}", "1")
        .replace("{meeting_id}", "1")
        .replace("{year}", "2025")
        .replace("{quarter}", "2026-Q3")
        .replace("{event_id}", "0f6c5a1e-1d2b-4c3d-9e8f-000000000001")
    )
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/changes": {"json": {"title": "t"}},
        "/api/v1/changes/{key}": {"json": {"title": "new title"}},
        "/api/v1/changes/{key}/approvals": {
            "json": {"role": "cab", "decision": "approved", "version": 1}
        },
        "/api/v1/changes/{key}/pir": {"json": {"summary": "fine"}},
        "/api/v1/cab/meetings": {"json": {"at": "2026-12-03T14:00:00Z"}},
        "/api/v1/cab/meetings/{meeting_id}/decisions": {
            "json": {"change": key, "outcome": "approved", "version": 1}
        },
        "/api/v1/cab/meetings/{meeting_id}/minutes": {"json": {"text": "minutes"}},
        "/api/v1/changes/{key}/test-runs": {
            "data": {"environment": "staging", "commit": SHA},
            "files": {"junit": ("r.xml", JUNIT_PASS, "application/xml")},
        },
        "/api/v1/gate": {"json": {"change": key, "environment": "staging", "commit": SHA}},
        "/api/v1/deployments": {
            "json": {
                "change": key,
                "environment": "staging",
                "commit": SHA,
                "run_url": "https://ci/1",
            }
        },
        "/api/v1/deployments/{deployment_id}/fail": {"json": {}},
        "/api/v1/baselines": {
            "data": {"name": "b"},
            "files": {
                "template": (
                    "t.yaml",
                    b"Resources: {B: {Type: 'AWS::S3::Bucket'}}",
                    "application/yaml",
                )
            },
        },
        "/api/v1/baselines/{name}/approve": {"json": {}},
        "/api/v1/baselines/adopt": {
            "json": {"name": "b", "resources": [{"type": "AWS::S3::Bucket", "id": "logs"}]}
        },
        "/api/v1/baselines/verify": {"json": {"quarter": "2026-Q3"}},
        "/api/v1/config/items": {"json": {"configurationItems": []}},
        "/api/v1/deployments/{deployment_id}/rollback": {"json": {"to_commit": SHA}},
        "/api/v1/audits": {"json": {"period": "2026-Q3"}},
        "/api/v1/findings/{key}/confirm": {"json": {}},
        "/api/v1/findings/{key}/dismiss": {"json": {"reason": "not a violation"}},
        "/api/v1/findings/{key}/remediate": {"json": {"kind": "fix", "description": "d"}},
        "/api/v1/findings/{key}/disciplinary-actions": {
            "json": {"person": "x@example.com", "action": "warning"}
        },
        "/api/v1/reviews/quarterly-metrics": {"json": {"quarter": "2026-Q3"}},
        "/api/v1/reviews/policy-annual": {"json": {"year": "2025", "sha256": "0" * 64}},
        "/api/v1/reviews/config-annual": {"json": {"year": "2025", "sha256": "0" * 64}},
        "/api/v1/waivers": {
            "json": {
                "title": "t",
                "justification": "j",
                "compensating_controls": "c",
                "controls": ["CM-4"],
                "scope_kind": "environment",
                "scope_value": "production",
                "days": 30,
            }
        },
        "/api/v1/waivers/{key}/approvals": {"json": {"role": "cab", "decision": "approved"}},
        "/api/v1/waivers/{key}/review": {"json": {"outcome": "close", "notes": "done"}},
        "/api/v1/waivers/quarterly-review": {"json": {"quarter": "2026-Q3"}},
        "/api/v1/trail/events": {"json": {"Records": []}},
    }
    extra = bodies.get(path, {}) if method != "GET" else {}
    return {"method": method, "path": url, **extra}


def test_every_route_declares_its_roles(api: Api) -> None:
    # Health is public; the GitHub and Linear hooks authenticate by HMAC signature, not token.
    undeclared = [
        (m, p)
        for m, p, roles in routes(api)
        if roles is None and p not in {"/api/v1/health", "/hooks/github", "/hooks/linear"}
    ]
    assert undeclared == []


def test_auditors_change_nothing_and_hr_only_records_discipline(api: Api) -> None:
    hr_writes = []
    for method, path, roles in routes(api):
        if method != "GET" and roles is not None:
            assert "auditor" not in roles, (method, path)
            if "hr" in roles:
                hr_writes.append((method, path, roles))
    assert hr_writes == [("POST", "/api/v1/findings/{key}/disciplinary-actions", ["hr"])]


def test_the_oracle_names_every_route_and_the_documents_agree(api: Api) -> None:
    assert len(EXPECTED) >= 50
    declared = {(m, p): " ".join(r) for m, p, r in routes(api) if r is not None}
    assert declared == EXPECTED


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_role_matrix(api: Api, role: str) -> None:
    key = approved_change(api)
    checked = 0
    for (method, path), allowed in EXPECTED.items():
        response = api.call(role, **request_for(method, path, key))
        refused = response.status_code == 403 and GATE_DENIAL in response.text
        assert refused == (role not in allowed.split()), (
            role,
            method,
            path,
            response.status_code,
            response.text[:200],
        )
        assert response.status_code < 500, (method, path, response.text[:300])
        checked += 1
    assert checked == len(EXPECTED)


def test_no_token_bad_token_and_revoked_token_are_401(api: Api) -> None:
    for method, path, roles in routes(api):
        if roles is None:
            continue
        call = request_for(method, path, "CHG-1")
        status = api.client.request(call.pop("method"), call.pop("path"), **call).status_code
        assert status == 401, path
    bad = api.client.get("/api/v1/me", headers={"Authorization": "Bearer cgt_nope"})
    assert bad.status_code == 401 and "invalid, expired or revoked" in bad.json()["detail"]
    # RFC 6750 section 3.1: the token was sent, and it is not valid.
    assert bad.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    missing = api.client.get("/api/v1/me")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    email = ROLE_PEOPLE["cab"]
    token_id = api.app.run(
        lambda ctx: next(
            t.id for t in Tokens(ctx.session).page(100, 0).rows if t.user.email == email
        )
    )
    api.app.run(lambda ctx: tokens.revoke(ctx, token_id), actor="local-admin")
    assert api.call("cab", "GET", "/api/v1/me").status_code == 401


def test_health_needs_no_token(api: Api) -> None:
    assert api.client.get("/api/v1/health").json() == {"status": "ok"}
