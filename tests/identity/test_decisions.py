"""Decisions need an authenticated principal (DESIGN.md section 2, Identity): `--as` makes
them only where the policy allows, marked unauthenticated, and AUTH-1 reports each one;
a person never marks a production change implemented (CM-5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from changegate.bootstrap import App
from changegate.db.models import Approval, LedgerRecord
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType
from changegate.domain.identity import Principal
from changegate.services import audits, changes, lifecycle
from tests.builders import T0, add_people, make_fields
from tests.conftest import Result, decide_current, local_decisions
from tests.identity.test_login_cli import _last_payload

Cli = Callable[..., Result]


@pytest.fixture
def org(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    people = (("alice@example.com", "requester"), ("ivy@example.com", "iso"), ("bob@x.org", "cab"))
    for email, role in people:
        assert cli("user", "add", email, "--name", email[:3], "--role", role).code == 0
    return cli


def _create(cli: Cli, *extra: str) -> str:
    result = cli(
        "change", "create", "--as", "alice@example.com", "--title", "Rotate certs",
        "--scope", "gateway", "--impact", "reconnects", "--rollback", "old cert",
        "--risk", "low", "--ticket", "ENG-7", *extra,
    )  # fmt: skip
    assert result.code == 0, result.err
    key = result.out.strip()
    assert cli("change", "submit", key, "--as", "alice@example.com").code == 0
    return key


def _deny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "deny.yaml"
    policy.write_text("identity:\n  local_decisions: deny\n")
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))


def test_deny_refuses_a_decision_through_as_in_one_line_and_writes_nothing(
    org: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: App
) -> None:
    key = _create(org)
    _deny(tmp_path, monkeypatch)
    before = app.read(lambda ctx: ctx.session.scalar(select(func.count(LedgerRecord.seq))))
    r = org("change", "approve", key, "--as", "ivy@example.com", "--role", "iso", "--version", "1")
    assert r.code == 1
    assert r.err.strip().count("\n") == 0 and "Traceback" not in r.err
    assert "identity: ivy@example.com is not signed in: decisions need an authenticated" in r.err
    after = app.read(lambda ctx: ctx.session.scalar(select(func.count(LedgerRecord.seq))))
    assert after == before
    assert app.read(lambda ctx: ctx.session.scalar(select(func.count(Approval.id)))) == 0
    # What is not a decision still works through --as under deny.
    assert org("change", "edit", key, "--as", "alice@example.com", "--scope", "gw").code == 0


def test_allow_keeps_the_decision_and_marks_it_unauthenticated(org: Cli, app: App) -> None:
    key = _create(org)
    r = org("change", "approve", key, "--as", "ivy@example.com", "--role", "iso", "--version", "1")
    assert r.code == 0, r.err
    payload = app.read(lambda ctx: _last_payload(ctx, "change.approved_by_iso"))
    assert payload["authenticated"] is False


def test_the_built_in_policy_denies_local_decisions(app: App) -> None:
    from changegate import policy

    assert policy.load(None).identity.local_decisions == "deny"
    assert policy.load(None).identity.demo_sign_in is False


def _approved_by(app: App, via: Principal) -> str:
    add_people(app)
    key = app.run(lambda ctx: changes.create(ctx, make_fields()).key, "alice@example.com", T0)
    app.run(lambda ctx: changes.submit(ctx, key), "alice@example.com", T0)

    def decide(ctx: Any) -> None:
        decide_current(ctx.acting_as(ctx.actor, via=via), key, ApprovalRole.ISO, Decision.APPROVED)

    app.run(decide, "ivy@example.com", T0)
    return key


def test_auth_1_reports_each_unauthenticated_decision(app: App) -> None:
    key = _approved_by(app, Principal.LOCAL)
    outcome = app.run(lambda ctx: audits.run(ctx, "2026-Q4"), "ivy@example.com", T0)
    found = [f for f in outcome.findings if f.control == "AUTH-1"]
    assert [(f.rule, f.subject) for f in found] == [
        ("AUTH-1.unauthenticated-decision", found[0].subject)
    ]
    assert key in found[0].summary and "ivy@example.com" in found[0].summary
    assert found[0].subject.startswith("ledger:")


def test_an_authenticated_decision_is_no_finding(app: App) -> None:
    _approved_by(app, Principal.TOKEN)
    payload = app.read(lambda ctx: _last_payload(ctx, "change.approved_by_iso"))
    assert "authenticated" not in payload
    outcome = app.run(lambda ctx: audits.run(ctx, "2026-Q4"), "ivy@example.com", T0)
    assert [f for f in outcome.findings if f.control == "AUTH-1"] == []


def test_a_person_does_not_implement_a_production_change(org: Cli) -> None:
    key = _create(org, "--env", "production")
    for who, role in (("ivy@example.com", "iso"), ("bob@x.org", "cab")):
        r = org("change", "approve", key, "--as", who, "--role", role, "--version", "1")
        assert r.code == 0, r.err
    done = org("change", "implement", key, "--as", "alice@example.com")
    assert done.code == 1 and done.err.strip().count("\n") == 0
    assert f"CM-5: {key} goes to production (production): a pipeline deployment" in done.err


def test_an_emergency_keeps_its_path_to_production(app: App) -> None:
    add_people(app)
    fields = make_fields(change_type=ChangeType.EMERGENCY)
    key = app.run(lambda ctx: changes.create(ctx, fields).key, "alice@example.com", T0)
    app.run(lambda ctx: changes.submit(ctx, key), "alice@example.com", T0)
    done = app.run(lambda ctx: lifecycle.implement(ctx, key), "alice@example.com", T0)
    assert done.status == "implemented"


def test_the_policy_can_deny_in_process_service_calls_too(app: App) -> None:
    from changegate.domain.errors import Refused

    app.policy = local_decisions(app.policy, "deny")
    with pytest.raises(Refused, match="not signed in"):
        _approved_by(app, Principal.LOCAL)
