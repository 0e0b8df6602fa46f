"""`ledger verify --state`: rows changed behind the application's back are named, by table,
key and field, with the ledger's value beside the live one; a normal history has none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from changegate.bootstrap import App
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType
from changegate.services import changes, deployments, gate, lifecycle, waivers
from changegate.services.ledger_state import Mismatch, check
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current

CAB, ISO, ALICE = "bob@example.com", "ivy@example.com", "alice@example.com"


@pytest.fixture
def history(app: App) -> App:
    """CHG-1 edited as a draft (still version 1), submitted, approved by CAB and ISO,
    implemented, closed; CHG-2 rejected; CHG-3 left a draft; CHG-4 cancelled. One minute apart
    from T0: the ISO's approval of CHG-1 is the ninth step (09:08)."""
    add_people(app)
    at = iter(T0 + timedelta(minutes=m) for m in range(100))

    def as_(who: str, fn: object) -> None:
        app.run(fn, actor=who, at=next(at))  # type: ignore[arg-type]

    for _ in range(4):
        as_(ALICE, lambda ctx: changes.create(ctx, make_fields()))
    as_(ALICE, lambda ctx: changes.edit(ctx, "CHG-1", {"title": "Rotate TLS certificates now"}))
    for key in ("CHG-1", "CHG-2"):
        as_(ALICE, lambda ctx, k=key: changes.submit(ctx, k))
    as_(CAB, lambda ctx: decide_current(ctx, "CHG-1", ApprovalRole.CAB, Decision.APPROVED))
    as_(ISO, lambda ctx: decide_current(ctx, "CHG-1", ApprovalRole.ISO, Decision.APPROVED))
    as_("ci@example.com", lambda ctx: lifecycle.implement(ctx, "CHG-1"))  # production: CM-5
    as_(ALICE, lambda ctx: lifecycle.close(ctx, "CHG-1"))
    as_(CAB, lambda ctx: decide_current(ctx, "CHG-2", ApprovalRole.CAB, Decision.REJECTED, "no"))
    as_(ALICE, lambda ctx: changes.cancel(ctx, "CHG-4", "not needed"))
    return app


def mismatches(app: App) -> list[Mismatch]:
    return app.read(lambda ctx: check(ctx.session))


def sql(app: App, statement: str) -> None:
    with app.engine.begin() as conn:
        conn.execute(text(statement))


def test_a_history_made_through_changegate_matches_its_ledger(history: App) -> None:
    assert mismatches(history) == []


def test_a_deleted_approval_is_named(history: App) -> None:
    sql(history, "DELETE FROM approvals WHERE role = 'iso'")
    assert mismatches(history) == [
        Mismatch(
            "approvals",
            "CHG-1",
            "row",
            "ivy@example.com iso approved 1 in time at 2026-11-02T09:08:00.000000+00:00",
            "(none)",
        )
    ]


def test_an_inserted_approval_is_named(history: App) -> None:
    sql(
        history,
        "INSERT INTO approvals (change_id, version, role, decision, approver_id, comment, "
        "decided_at, retroactive) SELECT c.id, 1, 'cab', 'approved', u.id, '', "
        "'2026-11-02 12:00:00', false FROM changes c, users u "
        "WHERE c.key = 'CHG-2' AND u.email = 'carol@example.com'",
    )
    assert mismatches(history) == [
        Mismatch(
            "approvals",
            "CHG-2",
            "row",
            "(none)",
            "carol@example.com cab approved 1 in time at 2026-11-02T12:00:00.000000+00:00",
        )
    ]


def test_an_edited_status_and_version_are_named(history: App) -> None:
    sql(history, "UPDATE changes SET status = 'approved', version = 7 WHERE key = 'CHG-2'")
    assert mismatches(history) == [
        Mismatch("changes", "CHG-2", "status", "rejected", "approved"),
        Mismatch("changes", "CHG-2", "version", "1", "7"),
    ]


def test_a_deleted_change_and_an_unrecorded_one_are_named(history: App) -> None:
    sql(
        history,
        "DELETE FROM change_versions "
        "WHERE change_id = (SELECT id FROM changes WHERE key = 'CHG-4')",
    )
    sql(history, "DELETE FROM changes WHERE key = 'CHG-4'")
    sql(history, "UPDATE changes SET key = 'CHG-99' WHERE key = 'CHG-3'")
    assert mismatches(history) == [
        Mismatch("changes", "CHG-3", "row", "present", "(none)"),
        Mismatch("changes", "CHG-4", "row", "present", "(none)"),
        Mismatch("changes", "CHG-99", "row", "(none)", "present"),
    ]


def test_an_emergency_approved_afterwards_matches(app: App) -> None:
    add_people(app)
    app.run(
        lambda ctx: changes.create(ctx, make_fields(change_type=ChangeType.EMERGENCY)),
        actor=ALICE,
        at=T0,
    )
    app.run(lambda ctx: changes.submit(ctx, "CHG-1"), actor=ALICE, at=T0)
    app.run(lambda ctx: lifecycle.implement(ctx, "CHG-1"), actor=ALICE, at=T0)
    for who, role, hours in ((CAB, ApprovalRole.CAB, 1), (ISO, ApprovalRole.ISO, 2)):
        app.run(
            lambda ctx, r=role: decide_current(ctx, "CHG-1", r, Decision.APPROVED),
            actor=who,
            at=T0 + timedelta(hours=hours),
        )
    assert mismatches(app) == []
    sql(app, "UPDATE approvals SET retroactive = false")
    assert [(m.table, m.field) for m in mismatches(app)] == [("approvals", "row")] * 4


@pytest.fixture
def deployed(app: App) -> App:
    """CHG-1 approved; its commit deployed to staging (succeeded) and to development (failed),
    and asked of the gate for production (denied: no test evidence)."""
    add_people(app)
    ci, sha, at = "ci@example.com", "a" * 40, T0
    app.run(lambda ctx: changes.create(ctx, make_fields()), actor=ALICE, at=at)
    app.run(lambda ctx: changes.submit(ctx, "CHG-1"), actor=ALICE, at=at)
    for who, role in ((CAB, ApprovalRole.CAB), (ISO, ApprovalRole.ISO)):
        app.run(
            lambda ctx, r=role: decide_current(ctx, "CHG-1", r, Decision.APPROVED), actor=who, at=at
        )
    for env, run in (
        ("staging", "https://ci.example.com/1"),
        ("development", "https://ci.example.com/2"),
    ):
        app.run(
            lambda ctx, e=env, u=run: deployments.start(ctx, "CHG-1", e, sha, u), actor=ci, at=at
        )
    app.run(lambda ctx: deployments.finish(ctx, 1), actor=ci, at=at)
    app.run(lambda ctx: gate.check(ctx, "CHG-1", "production", sha), actor=ci, at=at)
    app.run(lambda ctx: deployments.fail(ctx, 2, "health checks failed"), actor=ci, at=at)
    return app


def test_gate_decisions_and_deployments_match_their_ledger(deployed: App) -> None:
    assert mismatches(deployed) == []


def test_an_edited_gate_decision_and_deployment_are_named(deployed: App) -> None:
    sql(deployed, "UPDATE gate_decisions SET allowed = true, environment = 'staging'")
    sql(deployed, "UPDATE deployments SET status = 'succeeded' WHERE id = 2")
    sql(deployed, "DELETE FROM deployments WHERE id = 1")
    assert mismatches(deployed) == [
        Mismatch("gate_decisions", "#1", "environment", "production", "staging"),
        Mismatch("gate_decisions", "#1", "allowed", "False", "True"),
        Mismatch("deployments", "#1", "row", "present", "(none)"),
        Mismatch("deployments", "#2", "status", "failed", "succeeded"),
    ]


@pytest.fixture
def waived(app: App) -> App:
    """WVR-1 requested for CHG-1's CM-4, approved by CAB and the ISO: active for 30 days."""
    add_people(app)
    app.run(lambda ctx: changes.create(ctx, make_fields()), actor=ALICE, at=T0)
    app.run(
        lambda ctx: waivers.request(
            ctx, "hotfix", "vendor outage", "ISO review", ["CM-4"], "change", "CHG-1", 30
        ),
        actor="rob@example.com",
        at=T0,
    )
    for who, role in ((CAB, ApprovalRole.CAB), (ISO, ApprovalRole.ISO)):
        app.run(
            lambda ctx, r=role: waivers.decide(ctx, "WVR-1", r, Decision.APPROVED, ""),
            actor=who,
            at=T0 + timedelta(hours=1),
        )
    return app


def test_a_waiver_and_its_approvals_match_their_ledger(waived: App) -> None:
    assert mismatches(waived) == []


def test_a_waiver_edited_and_an_approval_deleted_are_named(waived: App) -> None:
    sql(waived, "UPDATE waivers SET status = 'closed', scope_value = 'CHG-2'")
    sql(waived, "DELETE FROM waiver_approvals WHERE role = 'cab'")
    assert mismatches(waived) == [
        Mismatch("waivers", "WVR-1", "status", "active", "closed"),
        Mismatch("waivers", "WVR-1", "scope_value", "CHG-1", "CHG-2"),
        Mismatch(
            "waiver_approvals",
            "WVR-1",
            "row",
            "bob@example.com cab approved 1 at 2026-11-02T10:00:00.000000+00:00",
            "(none)",
        ),
    ]
