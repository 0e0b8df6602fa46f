"""`ledger verify --state` over drifts, findings, baselines and signed reviews: a row deleted,
edited or inserted behind the application's back is named; a history made through changegate
matches its ledger. On both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from changegate.bootstrap import App
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.findings import DisciplinaryKind
from changegate.services import audits, baselines, changes, drift, findings, reviews, users
from changegate.services.ledger_state import Mismatch, check
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current
from tests.services.test_configuration import BUCKET, VOCABULARY, item

SAM, SEC2, ISO, HR = "sam@example.com", "sec2@example.com", "ivy@example.com", "hana@example.com"


def at(app: App, hours: float, who: str, fn: Any) -> Any:
    return app.run(fn, actor=who, at=T0 + timedelta(hours=hours))


def ingest_and_scan(app: App, hours: float, status: str) -> None:
    at(
        app,
        hours - 1,
        SAM,
        lambda ctx: drift.ingest(ctx, [item(hours - 1, status)], "t", VOCABULARY),
    )
    at(app, hours, SAM, lambda ctx: drift.scan(ctx, VOCABULARY))


@pytest.fixture
def history(app: App) -> dict[str, str]:
    """Baseline `logs` v1 approved; drift #1 opened at 13:00 (T0+4h) and remediated, drift #2
    reopened at 17:00 (due 48 hours later); the ISO audits 2026-Q4 at T0+60h, confirms the
    CFG-4 finding and dismisses CFG-2 of drift #1; the 2026-Q3 reviews are signed (#1 metrics,
    #2 baseline verification); HR warns Sam over the CFG-4 finding (action #1); v2 replaces
    v1 under CHG-1 at T0+70h, rebaselining drift #2.
    Returns the two decided findings' keys."""
    add_people(app)
    at(
        app,
        0,
        "local-admin",
        lambda ctx: users.add_user(ctx, SEC2, "Sec Two", ["security_engineer"]),
    )
    imported = at(
        app,
        0,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET], "s.yaml", "a" * 64, VOCABULARY
        ),
    )
    assert imported.version == 1
    at(app, 0, SEC2, lambda ctx: baselines.approve(ctx, "logs", None, None))
    for hours, status in ((2, "Enabled"), (4, "Suspended"), (6, "Enabled"), (8, "Suspended")):
        ingest_and_scan(app, hours, status)
    outcome = at(app, 60, ISO, lambda ctx: audits.run_requested(ctx, "2026-Q4"))
    rules = {(f.rule, f.subject): f.key for f in outcome.findings}
    overdue = rules[("CFG-4.drift-overdue", "drift:2")]
    unauthorised = rules[("CFG-2.unauthorised-drift", "drift:1")]
    at(app, 61, ISO, lambda ctx: findings.confirm(ctx, overdue, "fix it"))
    at(app, 61, ISO, lambda ctx: findings.dismiss(ctx, unauthorised, "in the CAB minutes"))
    at(
        app,
        61.5,
        HR,
        lambda ctx: findings.discipline(ctx, overdue, SAM, DisciplinaryKind.WARNING, "late fix"),
    )
    at(app, 62, ISO, lambda ctx: reviews.review_quarter(ctx, "2026-Q3", "quiet quarter"))
    at(app, 62, SAM, lambda ctx: baselines.verify_quarter(ctx, "2026-Q3"))
    at(app, 63, "alice@example.com", lambda ctx: changes.create(ctx, make_fields()))
    at(app, 63, "alice@example.com", lambda ctx: changes.submit(ctx, "CHG-1"))
    for who, role in (("bob@example.com", ApprovalRole.CAB), (ISO, ApprovalRole.ISO)):
        at(app, 63, who, lambda ctx, r=role: decide_current(ctx, "CHG-1", r, Decision.APPROVED))
    at(
        app,
        70,
        SAM,
        lambda ctx: baselines.import_baseline(
            ctx, "logs", [BUCKET], "s.yaml", "b" * 64, VOCABULARY
        ),
    )
    at(app, 70, SEC2, lambda ctx: baselines.approve(ctx, "logs", 2, "CHG-1"))
    return {"confirmed": overdue, "dismissed": unauthorised}


def mismatches(app: App) -> list[Mismatch]:
    return app.read(lambda ctx: check(ctx.session))


def sql(app: App, *statements: str) -> None:
    with app.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def named(found: list[Mismatch], table: str) -> list[tuple[str, str, str]]:
    return [(m.table, m.key, m.field) for m in found if m.table == table]


def test_drifts_findings_baselines_and_reviews_made_through_changegate_match(
    app: App, history: dict[str, str]
) -> None:
    assert mismatches(app) == []


def test_a_drift_deleted_edited_and_inserted_is_named(app: App, history: dict[str, str]) -> None:
    sql(
        app,
        "UPDATE drifts SET status = 'remediated', due_at = NULL, reopened = 0 WHERE id = 2",
        "INSERT INTO drifts (baseline_resource_id, resource_type, resource_id, status, "
        "observation_id, differences, detected_at, reopened, lock_version) "
        "SELECT baseline_resource_id, resource_type, resource_id, 'open', observation_id, "
        "differences, detected_at, 0, 1 FROM drifts WHERE id = 1",
        "DELETE FROM drifts WHERE id = 1",
    )
    assert mismatches(app) == [
        Mismatch("drifts", "#1", "row", "present", "(none)"),
        Mismatch("drifts", "#2", "status", "rebaselined", "remediated"),
        Mismatch("drifts", "#2", "due_at", "2026-11-04T17:00:00.000000+00:00", "None"),
        Mismatch("drifts", "#2", "reopened", "1", "0"),
        Mismatch("drifts", "#3", "row", "(none)", "present"),
    ]


def test_a_finding_deleted_edited_and_inserted_is_named(app: App, history: dict[str, str]) -> None:
    confirmed, dismissed = history["confirmed"], history["dismissed"]
    sql(
        app,
        f"UPDATE findings SET status = 'dismissed', summary = 'nothing' WHERE key = '{confirmed}'",
        "INSERT INTO findings (number, key, fingerprint, control, rule, subject, summary, "
        "evidence, attributes, status, occurred_at, first_detected_at, last_detected_at, "
        "first_run_id, lock_version) SELECT 99, 'FND-99', 'forged', control, rule, subject, "
        "summary, evidence, attributes, 'open', occurred_at, first_detected_at, "
        f"last_detected_at, first_run_id, 1 FROM findings WHERE key = '{confirmed}'",
        f"DELETE FROM findings WHERE key = '{dismissed}'",
    )
    found = mismatches(app)
    assert named(found, "findings") == sorted(
        [
            ("findings", confirmed, "status"),
            ("findings", confirmed, "sha256"),
            ("findings", dismissed, "row"),
            ("findings", "FND-99", "row"),
        ],
        key=lambda m: int(m[1].partition("-")[2]),
    )
    assert Mismatch("findings", confirmed, "status", "confirmed", "dismissed") in found
    assert len(found) == 4


def test_a_baseline_edited_inserted_and_its_resources_changed_are_named(
    app: App, history: dict[str, str]
) -> None:
    sql(
        app,
        "UPDATE baselines SET status = 'approved', change_key = 'CHG-7' WHERE version = 1",
        "UPDATE baseline_resources SET properties = '{}' WHERE baseline_id = "
        "(SELECT id FROM baselines WHERE version = 2)",
        "INSERT INTO baselines (name, version, status, source, source_ref, source_sha256, "
        "author_id, created_at, lock_version) SELECT 'rogue', 1, 'approved', source, "
        "source_ref, source_sha256, author_id, created_at, 1 FROM baselines WHERE version = 1",
    )
    found = mismatches(app)
    assert [(m.table, m.key, m.field, m.ledger, m.live) for m in found if m.field != "sha256"] == [
        ("baselines", "logs v1", "status", "superseded", "approved"),
        ("baselines", "logs v1", "change_key", "None", "CHG-7"),
        ("baselines", "rogue v1", "row", "(none)", "present"),
        ("baseline_resources", "rogue v1", "row", "(none)", "present"),
    ]
    [digest] = [m for m in found if m.field == "sha256"]
    assert (digest.table, digest.key) == ("baseline_resources", "logs v2")
    assert digest.ledger != digest.live


def test_a_baseline_version_deleted_is_named(app: App, history: dict[str, str]) -> None:
    version = "(SELECT id FROM baselines WHERE version = 2)"
    sql(
        app,
        f"DELETE FROM baseline_resources WHERE baseline_id = {version}",
        "DELETE FROM baselines WHERE version = 2",
    )
    assert mismatches(app) == [
        Mismatch("baselines", "logs v2", "row", "present", "(none)"),
        Mismatch("baseline_resources", "logs v2", "row", "present", "(none)"),
    ]


def test_a_review_deleted_edited_and_inserted_is_named(app: App, history: dict[str, str]) -> None:
    sql(
        app,
        "UPDATE reviews SET summary = summary || ' ' WHERE kind = 'baseline_verification'",
        "INSERT INTO reviews (kind, author_id, summary, recorded_at) "
        "SELECT kind, author_id, 'forged', recorded_at FROM reviews WHERE id = 1",
        "DELETE FROM reviews WHERE id = 1",
    )
    found = mismatches(app)
    assert [(m.table, m.key, m.field) for m in found] == [
        ("reviews", "#1", "row"),
        ("reviews", "#2", "sha256"),
        ("reviews", "#3", "row"),
    ]
    assert (found[0].ledger, found[0].live, found[2].ledger, found[2].live) == (
        "present",
        "(none)",
        "(none)",
        "present",
    )


def test_a_review_signed_by_someone_else_or_of_another_kind_is_named(
    app: App, history: dict[str, str]
) -> None:
    sql(
        app,
        "UPDATE reviews SET kind = 'annual', author_id = "
        "(SELECT id FROM users WHERE email = 'max@example.com') WHERE id = 1",
    )
    assert mismatches(app) == [
        Mismatch("reviews", "#1", "author", ISO, "max@example.com"),
        Mismatch("reviews", "#1", "kind", "quarterly_metrics", "annual"),
    ]


def test_a_disciplinary_action_deleted_edited_or_inserted_is_named(
    app: App, history: dict[str, str]
) -> None:
    sql(
        app,
        "INSERT INTO disciplinary_actions (finding_id, person_id, action, notes, recorded_by_id, "
        "recorded_at) SELECT finding_id, person_id, 'termination', notes, recorded_by_id, "
        "recorded_at FROM disciplinary_actions WHERE id = 1",
        "UPDATE disciplinary_actions SET action = 'suspension' WHERE id = 1",
    )
    found = named(mismatches(app), "disciplinary_actions")
    assert found == [
        ("disciplinary_actions", "#1", "details_sha256"),
        ("disciplinary_actions", "#2", "row"),
    ]
    sql(app, "DELETE FROM disciplinary_actions")
    assert mismatches(app) == [Mismatch("disciplinary_actions", "#1", "row", "present", "(none)")]
