"""Baselines, observations and drift through the services, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from changegate.bootstrap import App
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.configuration import DeclaredResource, ObservedItem
from changegate.domain.errors import Refused
from changegate.services import approvals as decisions
from changegate.services import baselines, changes, drift, lifecycle, users
from tests.builders import T0, add_people, make_fields

SAM, SEC2 = "sam@example.com", "sec2@example.com"
BUCKET = DeclaredResource("Logs", "AWS::S3::Bucket",
                          {"BucketName": "logs-prod",
                           "VersioningConfiguration": {"Status": "Enabled"}}, "logs-prod")


def item(at_hours: float, status: str = "Enabled", state: str = "OK") -> ObservedItem:
    config = None if state == "ResourceDeleted" else {
        "name": "logs-prod", "versioningConfiguration": {"status": status}}
    return ObservedItem("AWS::S3::Bucket", "logs-prod", "arn:aws:s3:::logs-prod",
                        "123456789012", "us-east-1", T0 + timedelta(hours=at_hours), state,
                        config)


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    app.run(lambda ctx: users.add_user(ctx, SEC2, "Second Security", ["security_engineer"]),
            actor="local-admin")
    return app


def run(app: App, who: str, fn: Any, hours: float = 0) -> Any:
    return app.run(fn, actor=who, at=T0 + timedelta(hours=hours))


def approved_baseline(app: App) -> None:
    run(app, SAM, lambda ctx: baselines.import_baseline(ctx, "logs", [BUCKET], "stack.yaml",
                                                        "a" * 64))
    run(app, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))


def scan(app: App, hours: float) -> drift.ScanResult:
    return run(app, SAM, drift.scan, hours)


def ingest(app: App, *items: ObservedItem) -> drift.Ingested:
    return run(app, SAM, lambda ctx: drift.ingest(ctx, items, "test"))


def drifts(app: App) -> list[dict[str, Any]]:
    return app.read(lambda ctx: [baselines.drift_view(d) for d in drift.list_drifts(ctx)])


def test_the_author_cannot_approve_their_own_baseline(org: App) -> None:
    run(org, SAM, lambda ctx: baselines.import_baseline(ctx, "logs", [BUCKET], "s.yaml", "a" * 64))
    with pytest.raises(Refused, match="SoD"):
        run(org, SAM, lambda ctx: baselines.approve(ctx, "logs", None, None))


def test_a_draft_baseline_raises_no_drift(org: App) -> None:
    run(org, SAM, lambda ctx: baselines.import_baseline(ctx, "logs", [BUCKET], "s.yaml", "a" * 64))
    ingest(org, item(1, "Suspended"))
    assert scan(org, 2).checked == 0


def test_unauthorised_drift_is_due_in_48_hours_and_closes_on_a_matching_observation(
        org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1))
    assert scan(org, 2).opened == []
    ingest(org, item(3, "Suspended"))
    result = scan(org, 4)
    [opened] = drifts(org)
    assert result.opened == [opened["id"]]
    assert opened["differences"] == [{"path": "/VersioningConfiguration/Status",
                                      "expected": "Enabled", "actual": "Suspended"}]
    assert opened["authorised_by"] is None
    assert opened["due_at"] == (T0 + timedelta(hours=52)).isoformat()
    assert scan(org, 5).still_open == 1
    ingest(org, item(10))
    assert scan(org, 11).closed == [opened["id"]]
    [closed] = drifts(org)
    assert closed["status"] == "remediated" and closed["remediation_seconds"] == 6 * 3600
    ingest(org, item(20, "Suspended"))
    assert len(scan(org, 21).reopened) == 1
    assert [d["reopened"] for d in drifts(org)] == [0, 1]


def test_drift_explained_by_an_implemented_change_is_authorised(org: App) -> None:
    approved_baseline(org)
    fields = make_fields(title="Suspend versioning on logs-prod", scope="bucket logs-prod")
    key = run(org, "alice@example.com", lambda ctx: changes.create(ctx, fields).key)
    run(org, "alice@example.com", lambda ctx: changes.submit(ctx, key))
    for who, role in (("bob@example.com", ApprovalRole.CAB), ("ivy@example.com", ApprovalRole.ISO)):
        run(org, who, lambda ctx, r=role: decisions.decide(ctx, key, r, Decision.APPROVED))
    run(org, "alice@example.com", lambda ctx: lifecycle.implement(ctx, key), hours=3)
    ingest(org, item(3.5, "Suspended"))
    scan(org, 4)
    [found] = drifts(org)
    assert found["authorised_by"] == key and found["due_at"] is None


def test_a_deleted_resource_is_drift(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1, state="ResourceDeleted"))
    scan(org, 2)
    assert drifts(org)[0]["differences"][0]["actual"] == "ResourceDeleted"


def test_replacing_a_baseline_needs_an_approved_change_and_closes_open_drift(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1, "Suspended"))
    scan(org, 2)
    suspended = DeclaredResource("Logs", "AWS::S3::Bucket", {
        "BucketName": "logs-prod", "VersioningConfiguration": {"Status": "Suspended"}},
        "logs-prod")
    run(org, SAM, lambda ctx: baselines.import_baseline(ctx, "logs", [suspended], "s2.yaml",
                                                        "b" * 64))
    with pytest.raises(Refused, match="CFG-2"):
        run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))
    key = run(org, "alice@example.com", lambda ctx: changes.create(ctx, make_fields()).key)
    run(org, "alice@example.com", lambda ctx: changes.submit(ctx, key))
    for who, role in (("bob@example.com", ApprovalRole.CAB), ("ivy@example.com", ApprovalRole.ISO)):
        run(org, who, lambda ctx, r=role: decisions.decide(ctx, key, r, Decision.APPROVED))
    run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, key), hours=3)
    assert [d["status"] for d in drifts(org)] == ["rebaselined"]
    assert scan(org, 4).opened == []


def test_ingest_deduplicates(org: App) -> None:
    assert ingest(org, item(1), item(1)).added == 1
    assert ingest(org, item(1)).duplicates == 1
