"""Change requests through the services, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from changegate.bootstrap import App
from changegate.db.models import LedgerRecord
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeType, Risk
from changegate.domain.errors import BadInput, Forbidden, InvalidTransition, Refused
from changegate.services import changes, lifecycle, users
from changegate.services.views import changes as views
from tests.builders import T0, add_people, make_fields
from tests.conftest import decide_current

ALICE = "alice@example.com"
CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO
OK, NO = Decision.APPROVED, Decision.REJECTED


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    return app


def ledger_actions(app: App, subject: str | None = None) -> list[str]:
    def read(ctx: Any) -> list[str]:
        stmt = select(LedgerRecord.action).order_by(LedgerRecord.seq)
        if subject:
            stmt = stmt.where(LedgerRecord.subject == subject)
        return list(ctx.session.execute(stmt).scalars())

    return app.run(read)


def ledger_count(app: App) -> int:
    return app.run(
        lambda ctx: ctx.session.execute(select(func.count()).select_from(LedgerRecord)).scalar_one()
    )


def create(app: App, at_offset: int = 0, **fields: Any) -> str:
    return app.run(
        lambda ctx: changes.create(ctx, make_fields(**fields)).key,
        actor=ALICE,
        at=T0 + timedelta(minutes=at_offset),
    )


def act(app: App, actor: str, fn: Any, *args: Any, minutes: int = 1) -> Any:
    return app.run(lambda ctx: fn(ctx, *args), actor=actor, at=T0 + timedelta(minutes=minutes))


def detail(app: App, key: str) -> dict[str, Any]:
    return app.run(lambda ctx: views.show(ctx, key).model_dump(mode="json"))


def approve_all(app: App, key: str, cab: list[str], iso: str = "ivy@example.com") -> None:
    for who in cab:
        act(app, who, decide_current, key, CAB, OK, "ok")
    act(app, iso, decide_current, key, ISO, OK, "ok")


def test_create_makes_a_draft_with_version_one_and_a_ledger_record(org: App) -> None:
    key = create(org)
    shown = detail(org, key)
    assert (key, shown["status"], shown["version"]) == ("CHG-1", "draft", 1)
    assert ledger_actions(org, key) == ["change.created"]


def test_keys_are_sequential(org: App) -> None:
    assert [create(org, i) for i in range(3)] == ["CHG-1", "CHG-2", "CHG-3"]


def test_submit_refuses_an_incomplete_request_and_writes_nothing(org: App) -> None:
    key = create(org, rollback_plan="", ticket="")
    before = ledger_count(org)
    with pytest.raises(Refused, match=r"CM-1: .*missing rollback_plan, ticket"):
        act(org, ALICE, changes.submit, key)
    assert ledger_count(org) == before
    assert detail(org, key)["status"] == "draft"


def test_high_risk_needs_two_cab_and_the_iso(org: App) -> None:
    key = create(org, risk=Risk.HIGH)
    act(org, ALICE, changes.submit, key)
    act(org, "bob@example.com", decide_current, key, CAB, OK, "")
    act(org, "ivy@example.com", decide_current, key, ISO, OK, "")
    assert detail(org, key)["status"] == "submitted"
    assert detail(org, key)["awaiting"] == ["1 more CAB approval"]
    act(org, "carol@example.com", decide_current, key, CAB, OK, "")
    assert detail(org, key)["status"] == "approved"
    assert ledger_actions(org, key)[-1] == "change.approved"


def test_editing_after_approval_makes_a_new_version_and_voids_approvals(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.submit, key)
    approve_all(org, key, ["bob@example.com"])
    assert detail(org, key)["status"] == "approved"
    act(org, ALICE, changes.edit, key, {"rollback_plan": "restore snapshot"})
    shown = detail(org, key)
    assert (shown["status"], shown["version"]) == ("submitted", 2)
    assert [a["counts"] for a in shown["approvals"]] == [False, False]
    edit = org.run(
        lambda ctx: ctx.session.execute(
            select(LedgerRecord.payload).where(LedgerRecord.action == "change.edited")
        ).scalar_one()
    )
    assert "decisions on version 1 no longer count" in json.loads(edit)["reason"]
    approve_all(org, key, ["bob@example.com"])
    assert detail(org, key)["status"] == "approved"


def test_editing_a_draft_keeps_version_one(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.edit, key, {"title": "Rotate all certificates"})
    assert detail(org, key)["version"] == 1


def test_edit_with_no_difference_is_bad_input(org: App) -> None:
    key = create(org)
    with pytest.raises(BadInput, match="nothing to change"):
        act(org, ALICE, changes.edit, key, {"title": "Rotate TLS certificates"})


def test_rejection_then_revision_and_resubmission(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.submit, key)
    act(org, "ivy@example.com", decide_current, key, ISO, NO, "no rollback test")
    assert detail(org, key)["status"] == "rejected"
    act(org, ALICE, changes.edit, key, {"rollback_plan": "tested rollback"})
    assert (detail(org, key)["status"], detail(org, key)["version"]) == ("draft", 2)
    act(org, ALICE, changes.submit, key)
    approve_all(org, key, ["bob@example.com"])
    assert detail(org, key)["status"] == "approved"


def test_a_rejection_needs_a_reason(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.submit, key)
    with pytest.raises(BadInput, match="comment"):
        act(org, "ivy@example.com", decide_current, key, ISO, NO, " ")


@pytest.mark.parametrize(
    ("approver", "role", "error", "text"),
    [
        (ALICE, CAB, Forbidden, "does not hold the cab role"),
        ("max@example.com", CAB, None, ""),
        ("dev@example.com", CAB, Refused, "authored this change"),
    ],
)
def test_segregation_of_duties(
    org: App, approver: str, role: ApprovalRole, error: type[Exception] | None, text: str
) -> None:
    act(org, "local-admin", users.add_user, "dev@example.com", "Dev", ["cab"])
    key = create(org, commit_authors=("Dev@Example.com",))
    act(org, ALICE, changes.submit, key)
    if error is None:
        act(org, approver, decide_current, key, role, OK, "")
        return
    with pytest.raises(error, match=text):
        act(org, approver, decide_current, key, role, OK, "")


def test_requester_holding_cab_cannot_approve_own_change(org: App) -> None:
    act(org, "local-admin", users.add_user, "both@example.com", "Both", ["requester", "cab"])
    key = org.run(
        lambda ctx: changes.create(ctx, make_fields()).key, actor="both@example.com", at=T0
    )
    act(org, "both@example.com", changes.submit, key)
    with pytest.raises(Refused, match=r"SoD: both@example\.com requested this change"):
        act(org, "both@example.com", decide_current, key, CAB, OK, "")


def test_one_person_counts_for_one_role_only(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.submit, key)
    act(org, "max@example.com", decide_current, key, CAB, OK, "")
    with pytest.raises(Refused, match="counts for one role only"):
        act(org, "max@example.com", decide_current, key, ISO, OK, "")


def test_only_the_requester_edits_submits_and_cancels(org: App) -> None:
    key = create(org)
    for fn, args in ((changes.submit, ()), (changes.cancel, ()), (changes.edit, ({"title": "x"},))):
        with pytest.raises(Forbidden, match="only the requester"):
            act(org, "rob@example.com", fn, key, *args)


def test_a_disabled_user_cannot_act(org: App) -> None:
    act(org, "local-admin", users.disable_user, ALICE)
    with pytest.raises(Forbidden, match="disabled"):
        create(org)


def test_normal_change_is_implemented_only_once_approved(org: App) -> None:
    key = create(org)
    act(org, ALICE, changes.submit, key)
    with pytest.raises(InvalidTransition, match="CM-2"):
        act(org, ALICE, lifecycle.implement, key)
    approve_all(org, key, ["bob@example.com"])
    # A production change: its pipeline marks it implemented, never a person (CM-5).
    act(org, "ci@example.com", lifecycle.implement, key)
    shown = detail(org, key)
    assert shown["status"] == "implemented"
    assert shown["due"]["pir"] is None and shown["due"]["retro_approval"] is None
    act(org, ALICE, lifecycle.close, key)
    assert detail(org, key)["status"] == "closed"


def test_emergency_needs_a_justification(org: App) -> None:
    with pytest.raises(Refused, match="CM-3"):
        create(org, change_type=ChangeType.EMERGENCY, justification="")


def test_emergency_path_end_to_end(org: App) -> None:
    key = create(org, change_type=ChangeType.EMERGENCY)
    act(org, ALICE, changes.submit, key)
    # Wednesday 25 Nov 2026 15:00 UTC; Thanksgiving (26th) is skipped: due end of Thu 3 Dec.
    run_at = T0.replace(day=25, hour=15)
    org.run(lambda ctx: lifecycle.implement(ctx, key), actor=ALICE, at=run_at)
    shown = detail(org, key)
    assert shown["due"]["retro_approval"] == "2026-12-04T00:00:00+00:00"
    assert shown["due"]["pir"] == "2026-12-04T00:00:00+00:00"
    assert "US holidays" in shown["due"]["calendar"]["calendar"]
    with pytest.raises(Refused, match="retroactive approvals"):
        org.run(lambda ctx: lifecycle.close(ctx, key), actor=ALICE, at=run_at)

    def overdue_at(day: int) -> list[tuple[str, str]]:
        at = run_at.replace(month=12, day=day, hour=0)
        rows = org.run(lambda ctx: views.overdue(ctx, 100, 0), at=at).items
        return [(r.key, r.obligation) for r in rows]

    assert overdue_at(3) == []
    assert overdue_at(4) == [(key, "retroactive approval"), (key, "post-implementation review")]
    for who, role in (("bob@example.com", CAB), ("ivy@example.com", ISO)):
        org.run(
            lambda ctx, w=who, r=role: decide_current(ctx, key, r, OK, "retro"),
            actor=who,
            at=run_at + timedelta(days=1),
        )
    assert detail(org, key)["due"]["retro_approved_at"] is not None
    assert detail(org, key)["status"] == "implemented"
    assert overdue_at(4) == [(key, "post-implementation review")]
    org.run(
        lambda ctx: lifecycle.record_pir(ctx, key, "root cause fixed"),
        actor=ALICE,
        at=run_at + timedelta(days=2),
    )
    assert overdue_at(4) == []
    org.run(lambda ctx: lifecycle.close(ctx, key), actor=ALICE, at=run_at + timedelta(days=2))
    assert detail(org, key)["status"] == "closed"
    assert "change.retro_approved" in ledger_actions(org, key)


def test_emergency_approved_before_running_owes_only_a_pir(org: App) -> None:
    key = create(org, change_type=ChangeType.EMERGENCY)
    act(org, ALICE, changes.submit, key)
    approve_all(org, key, ["bob@example.com"])
    act(org, ALICE, lifecycle.implement, key)
    due = detail(org, key)["due"]
    assert due["retro_approval"] is None and due["pir"] is not None
    with pytest.raises(Refused, match="post-implementation review"):
        act(org, ALICE, lifecycle.close, key)


def test_no_decisions_on_a_closed_or_draft_change(org: App) -> None:
    key = create(org)
    with pytest.raises(Refused, match="nothing awaits a decision"):
        act(org, "bob@example.com", decide_current, key, CAB, OK, "")


def test_simulated_clock_marks_ledger_records(org: App) -> None:
    org.run(lambda ctx: changes.create(ctx, make_fields()), actor=ALICE, at=T0, simulated=True)
    marks = org.run(
        lambda ctx: list(
            ctx.session.execute(
                select(LedgerRecord.clock_override).order_by(LedgerRecord.seq)
            ).scalars()
        )
    )
    assert marks[-1] is True and marks[0] is False
