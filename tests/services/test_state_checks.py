"""A passing `ledger verify --state` on the record, and the audit's warning without one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from changegate.bootstrap import App
from changegate.db.models import LedgerRecord
from changegate.domain.errors import Forbidden
from changegate.services import audits, changes, state_checks, users
from tests.builders import T0, add_people, make_fields

ISO = "ivy@example.com"
WARNING = (
    "ledger state not verified: no passing `changegate ledger verify --state --record` at or "
    "after {}, so the tables this audit read were not proven to match the ledger"
)


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    app.run(lambda ctx: changes.create(ctx, make_fields()), actor="alice@example.com", at=T0)
    return app


def state_records(app: App) -> list[dict[str, object]]:
    cols = LedgerRecord.__table__.c
    stmt = select(cols.payload).where(cols.action == "ledger.state_verified").order_by(cols.seq)
    return app.read(lambda ctx: [json.loads(p) for p in ctx.session.execute(stmt).scalars()])


def test_an_ended_quarter_warns_until_a_check_after_its_end_is_recorded(org: App) -> None:
    later = T0 + timedelta(hours=1)
    before = org.run(lambda ctx: audits.preview(ctx, "2026-Q3"), actor=ISO, at=T0)
    assert before.run.warnings == [WARNING.format("2026-10-01T00:00:00.000000+00:00")]
    done = org.run(state_checks.record, actor=ISO, at=T0)
    assert (done.ok, done.recorded) == (True, True)
    [payload] = state_records(org)
    assert payload["head_seq"] == done.head_seq == done.count
    assert payload["head_hash"] == done.head_hash
    assert payload["tables"] == [
        "changes",
        "approvals",
        "gate_decisions",
        "deployments",
        "waivers",
        "waiver_approvals",
        "drifts",
        "findings",
        "baselines",
        "baseline_resources",
        "reviews",
        "disciplinary_actions",
        "trail_events",
        "workspace_files",
    ]
    run = org.run(lambda ctx: audits.run_requested(ctx, "2026-Q3"), actor=ISO, at=later)
    assert audits.summary(run).run.warnings == []
    recorded = org.read(
        lambda ctx: ctx.session.execute(
            select(LedgerRecord.payload).where(LedgerRecord.action == "audit.run")
        ).scalar_one()
    )
    assert json.loads(recorded)["warnings"] == []


def test_a_check_before_the_period_read_as_of_now_does_not_cover_it(org: App) -> None:
    org.run(state_checks.record, actor=ISO, at=T0)
    later = T0 + timedelta(hours=1)
    run = org.run(lambda ctx: audits.run_requested(ctx, "2026-Q4"), actor=ISO, at=later)
    # 2026-Q4 is running: it is read as of now, an hour after the check.
    assert audits.summary(run).run.warnings == [WARNING.format("2026-11-02T10:00:00.000000+00:00")]
    assert run.run.counts["warnings"] == audits.summary(run).run.warnings


def test_a_failing_check_records_nothing(org: App) -> None:
    with org.engine.begin() as conn:
        conn.execute(text("UPDATE changes SET status = 'approved'"))
    failed = org.run(state_checks.record, actor=ISO, at=T0)
    assert (failed.ok, failed.recorded) == (False, False)
    assert failed.state is not None and [m.field for m in failed.state.mismatches] == ["status"]
    assert state_records(org) == []


def test_only_the_iso_or_an_admin_records_a_check(org: App) -> None:
    for who in ("aud@example.com", "alice@example.com"):
        with pytest.raises(Forbidden):
            org.run(state_checks.record, actor=who, at=T0)
    root = "root@example.com"
    org.run(lambda ctx: users.add_user(ctx, root, "Root", ["admin"]), actor="local-admin", at=T0)
    assert org.run(state_checks.record, actor=root, at=T0).recorded is True
