"""Baselines, observations and drift through the services, on both databases."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.db.configs import DRIFT_SCANS, OBSERVATION_WRITERS, Configs
from changegate.db.models import LedgerRecord
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.configuration import DeclaredResource, ObservedItem
from changegate.domain.errors import BadInput, Conflict, Refused
from changegate.services import baselines, changes, drift, lifecycle, users
from changegate.services.views import configuration as config_views
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current

SAM, SEC2 = "sam@example.com", "sec2@example.com"
BUCKET = DeclaredResource(
    "Logs",
    "AWS::S3::Bucket",
    {"BucketName": "logs-prod", "VersioningConfiguration": {"Status": "Enabled"}},
    "logs-prod",
)


def item(at_hours: float, status: str = "Enabled", state: str = "OK") -> ObservedItem:
    """A bucket as AWS Config records it: versioning is supplementary configuration."""
    deleted = state == "ResourceDeleted"
    return ObservedItem(
        "AWS::S3::Bucket",
        "logs-prod",
        "arn:aws:s3:::logs-prod",
        "123456789012",
        "us-east-1",
        T0 + timedelta(hours=at_hours),
        state,
        None
        if deleted
        else {
            "name": "logs-prod",
            "owner": {"displayName": None, "id": "0000"},
            "creationDate": "2026-10-01T09:00:00.000Z",
        },
        supplementary={}
        if deleted
        else {"BucketVersioningConfiguration": {"status": status, "isMfaDeleteEnabled": None}},
        resource_name="logs-prod",
    )


VOCABULARY = bootstrap.vocabulary()


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    app.run(
        lambda ctx: users.add_user(ctx, SEC2, "Second Security", ["security_engineer"]),
        actor="local-admin",
    )
    return app


def run(app: App, who: str, fn: Any, hours: float = 0) -> Any:
    return app.run(fn, actor=who, at=T0 + timedelta(hours=hours))


def approved_baseline(app: App) -> None:
    run(
        app,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET], "stack.yaml", "a" * 64, VOCABULARY
        ),
    )
    run(app, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))


def scan(app: App, hours: float) -> drift.ScanResult:
    return run(app, SAM, lambda ctx: drift.scan(ctx, VOCABULARY), hours)


def ingest(app: App, *items: ObservedItem) -> drift.Ingested:
    return run(app, SAM, lambda ctx: drift.ingest(ctx, items, "test", VOCABULARY))


def drifts(app: App) -> list[dict[str, Any]]:
    return app.read(
        lambda ctx: [
            d.model_dump(mode="json") for d in config_views.drifts(ctx, None, 5000, 0).items
        ]
    )


def test_the_author_cannot_approve_their_own_baseline(org: App) -> None:
    run(
        org,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET], "s.yaml", "a" * 64, VOCABULARY
        ),
    )
    with pytest.raises(Refused, match="SoD"):
        run(org, SAM, lambda ctx: baselines.approve(ctx, "logs", None, None))


def test_a_draft_baseline_raises_no_drift(org: App) -> None:
    run(
        org,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET], "s.yaml", "a" * 64, VOCABULARY
        ),
    )
    ingest(org, item(1, "Suspended"))
    assert scan(org, 2).checked == 0


def test_unauthorised_drift_is_due_in_48_hours_and_closes_on_a_matching_observation(
    org: App,
) -> None:
    approved_baseline(org)
    ingest(org, item(1))
    assert scan(org, 2).opened == []
    ingest(org, item(3, "Suspended"))
    result = scan(org, 4)
    [opened] = drifts(org)
    assert result.opened == [opened["id"]]
    assert opened["differences"] == [
        {"path": "/VersioningConfiguration/Status", "expected": "Enabled", "actual": "Suspended"}
    ]
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
        run(org, who, lambda ctx, r=role: decide_current(ctx, key, r, Decision.APPROVED))
    run(org, "ci@example.com", lambda ctx: lifecycle.implement(ctx, key), hours=3)
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
    suspended = DeclaredResource(
        "Logs",
        "AWS::S3::Bucket",
        {"BucketName": "logs-prod", "VersioningConfiguration": {"Status": "Suspended"}},
        "logs-prod",
    )
    run(
        org,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [suspended], "s2.yaml", "b" * 64, VOCABULARY
        ),
    )
    with pytest.raises(Refused, match="CFG-2"):
        run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))
    key = run(org, "alice@example.com", lambda ctx: changes.create(ctx, make_fields()).key)
    run(org, "alice@example.com", lambda ctx: changes.submit(ctx, key))
    for who, role in (("bob@example.com", ApprovalRole.CAB), ("ivy@example.com", ApprovalRole.ISO)):
        run(org, who, lambda ctx, r=role: decide_current(ctx, key, r, Decision.APPROVED))
    run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, key), hours=3)
    assert [d["status"] for d in drifts(org)] == ["rebaselined"]
    assert scan(org, 4).opened == []


def test_ingest_deduplicates(org: App) -> None:
    assert ingest(org, item(1), item(1)).added == 1
    assert ingest(org, item(1)).duplicates == 1


def scanned(app: App) -> dict[str, Any]:
    """The payload of the newest scan's ledger record."""
    stmt = (
        select(LedgerRecord.payload)
        .where(LedgerRecord.action == "drift.scanned")
        .order_by(LedgerRecord.seq.desc())
        .limit(1)
    )
    payload: str = app.read(lambda ctx: ctx.session.execute(stmt).scalar_one())
    return dict(json.loads(payload))


def compared(app: App) -> int:
    return int(scanned(app)["coverage"]["compared"])


SECOND = DeclaredResource(
    "Audit",
    "AWS::S3::Bucket",
    {"BucketName": "audit-prod", "VersioningConfiguration": {"Status": "Enabled"}},
    "audit-prod",
)


def replace_baseline(app: App, declared: DeclaredResource, hours: float) -> None:
    run(
        app,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [declared], "s2.yaml", "b" * 64, VOCABULARY
        ),
        hours,
    )
    key = run(app, "alice@example.com", lambda ctx: changes.create(ctx, make_fields()).key)
    run(app, "alice@example.com", lambda ctx: changes.submit(ctx, key))
    for who, role in (("bob@example.com", ApprovalRole.CAB), ("ivy@example.com", ApprovalRole.ISO)):
        run(app, who, lambda ctx, r=role: decide_current(ctx, key, r, Decision.APPROVED))
    run(app, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, key), hours)


def test_a_scan_compares_only_what_changed_since_the_last_but_counts_everything(org: App) -> None:
    run(
        org,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET, SECOND], "stack.yaml", "a" * 64, VOCABULARY
        ),
    )
    run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))
    ingest(org, item(1, "Suspended"))
    first = scan(org, 2)
    assert (first.checked, first.unobserved, len(first.opened)) == (1, 1, 1)
    assert compared(org) == 1 and scanned(org)["coverage"]["full"] is True
    steady = scan(org, 3)
    assert (steady.checked, steady.unobserved, steady.still_open, steady.opened) == (1, 1, 1, [])
    assert compared(org) == 0 and scanned(org)["coverage"]["full"] is False
    ingest(org, item(4, "Suspended"))  # observed again, unchanged: compared, still open
    assert scan(org, 5).still_open == 1 and compared(org) == 1


def test_drift_past_due_stays_open_unrecompared_and_closes_late_when_fixed(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1, "Suspended"))
    [opened] = scan(org, 2).opened
    overdue = scan(org, 2 + 48 + 1)  # due 48 clock hours after detection
    assert (overdue.still_open, overdue.closed, compared(org)) == (1, [], 0)
    assert drifts(org)[0]["status"] == "open"
    ingest(org, item(60))
    assert scan(org, 61).closed == [opened]
    [event] = scanned(org)["events"]
    assert event["event"] == "remediated" and event["late"] is True
    [closed] = drifts(org)
    assert closed["closed_at"] == (T0 + timedelta(hours=60)).isoformat()
    assert closed["remediation_seconds"] == 58 * 3600
    assert org.read(lambda ctx: Configs(ctx.session).drift(opened).lock_version) == 2  # CAS


def test_an_observation_that_arrives_out_of_order_is_compared_but_changes_nothing(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(5))
    scan(org, 6)
    ingest(org, item(1, "Suspended"))  # captured before the latest: not the latest
    result = scan(org, 7)
    assert (result.opened, result.checked, compared(org)) == ([], 1, 1)


def test_a_baseline_approved_since_the_last_scan_is_compared_without_new_observations(
    org: App,
) -> None:
    approved_baseline(org)
    ingest(org, item(1))
    assert scan(org, 2).opened == []
    suspended = DeclaredResource(
        "Logs",
        "AWS::S3::Bucket",
        {"BucketName": "logs-prod", "VersioningConfiguration": {"Status": "Suspended"}},
        "logs-prod",
    )
    replace_baseline(org, suspended, 3)
    result = scan(org, 4)
    assert len(result.opened) == 1 and compared(org) == 1
    assert drifts(org)[0]["differences"][0]["expected"] == "Suspended"
    assert scan(org, 5).still_open == 1 and compared(org) == 0


def test_a_full_scan_after_an_incremental_one_finds_nothing_more(org: App) -> None:
    run(
        org,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET, SECOND], "stack.yaml", "a" * 64, VOCABULARY
        ),
    )
    run(org, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))
    ingest(org, item(1, "Suspended"))
    scan(org, 2)
    ingest(org, item(3))
    incremental = scan(org, 4)
    full = run(org, SAM, lambda ctx: drift.scan(ctx, VOCABULARY, full=True), 5)
    assert len(incremental.closed) == 1 and scanned(org)["coverage"]["full"] is True
    assert (full.checked, full.unobserved, full.still_open) == (
        incremental.checked,
        incremental.unobserved,
        incremental.still_open,
    )
    assert (full.opened, full.reopened, full.closed) == ([], [], [])


def waits_for(app: App, thread: threading.Thread, lock: int) -> None:
    """Observe the second transaction waiting on the lock itself: on PostgreSQL, its advisory
    lock request not granted in pg_locks (another wait, say on the ledger head, does not count);
    on SQLite, where writers are serialised by BEGIN IMMEDIATE, the thread still blocked."""
    if app.engine.dialect.name != "postgresql":
        thread.join(timeout=0.5)
        assert thread.is_alive()
        return
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = :high AND objid = :low AND objsubid = 1"
    )
    keys = {"high": lock >> 32, "low": lock & 0xFFFFFFFF}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.engine.connect() as conn:
            if conn.execute(waiting, keys).scalar_one() == 1:
                return
        thread.join(timeout=0.02)
    raise AssertionError("the second transaction never waited on the lock")


def test_overlapping_ingests_commit_one_after_the_other(org: App) -> None:
    """The incremental scan's mark assumes observation ids become visible in order."""
    second = threading.Thread(target=lambda: ingest(org, item(2)))
    with org.transaction(SAM, T0) as ctx:
        drift.ingest(ctx, [item(1)], "test", VOCABULARY)
        second.start()
        waits_for(org, second, OBSERVATION_WRITERS)
    second.join(timeout=30)
    assert not second.is_alive() and ingest(org, item(1), item(2)).duplicates == 2


def test_nul_in_an_observed_item_is_bad_input_and_writes_nothing(org: App) -> None:
    bad = ObservedItem(
        "AWS::S3::Bucket", "logs\x00prod", None, "123456789012", "us-east-1", T0, "OK", {}
    )
    with pytest.raises(BadInput, match="resource_id: text may not contain NUL"):
        ingest(org, bad)
    assert ingest(org, item(1)).added == 1


def test_a_scan_after_one_that_recorded_no_mark_compares_everything(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1))
    scan(org, 2)
    run(org, SAM, lambda ctx: ctx.record("drift.scanned", "drift", {"checked": 1}), 3)
    scan(org, 4)
    assert scanned(org)["coverage"]["full"] is True and compared(org) == 1


def test_closing_a_drift_that_changed_since_it_was_read_is_a_conflict(org: App) -> None:
    approved_baseline(org)
    ingest(org, item(1, "Suspended"))
    [opened] = scan(org, 2).opened
    stale = {
        "drift": opened,
        "read_version": 0,
        "new_status": "remediated",
        "closed": T0,
        "seconds": 0.0,
    }
    with pytest.raises(Conflict):
        run(org, SAM, lambda ctx: Configs(ctx.session).close_drifts([stale]))
    assert drifts(org)[0]["status"] == "open"


def test_ingest_counts_new_and_known_items_in_one_batch(org: App) -> None:
    assert ingest(org, item(1), item(2), item(1)) == drift.Ingested(2, 1)
    assert ingest(org, item(2), item(3), item(4), item(1), item(3)) == drift.Ingested(2, 3)


def test_overlapping_scans_open_each_drift_once(org: App) -> None:
    """Two scans at once: the second waits for the first, then finds nothing new to open."""
    approved_baseline(org)
    ingest(org, item(1, status="Suspended"))
    second: list[drift.ScanResult] = []
    waiting = threading.Thread(target=lambda: second.append(scan(org, 3)))
    with org.transaction(SAM, T0 + timedelta(hours=2)) as ctx:
        first = drift.scan(ctx, VOCABULARY)
        waiting.start()
        waits_for(org, waiting, DRIFT_SCANS)
    waiting.join(timeout=30)
    assert len(first.opened) == 1 and second[0].opened == [] and second[0].still_open == 1
    assert len(drifts(org)) == 1


def test_a_large_ingest_leaves_the_planner_statistics_current(org: App) -> None:
    """A drift scan planned on stale statistics took 342 s instead of 5: an ingest of many
    items analyses the table it filled (ANALYZE is transactional on both databases)."""
    ingest(org, *(item(n / 100) for n in range(1_200)))
    if org.engine.dialect.name == "postgresql":
        query = text("SELECT reltuples FROM pg_class WHERE relname = 'observations'")
    else:
        query = text("SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'observations'")
    with org.engine.connect() as conn:
        counted = conn.execute(query).scalars().first()
    # SQLite samples each index (PRAGMA analysis_limit, db/engine.py): its count is an
    # estimate, within a tenth; without the ingest's ANALYZE there would be none.
    assert counted is not None and counted >= 1_200 * 0.9
