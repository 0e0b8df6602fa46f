"""CAB meetings through the services, on SQLite and PostgreSQL: the agenda, attendance, decisions
that are the members' approvals (SoD, quorum, version binding as `change approve`), minutes,
the frozen close and its ledger hash, and the printable document."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select

from changegate.bootstrap import App
from changegate.db.models import Approval, CabDecision, LedgerRecord
from changegate.domain.approvals import ApprovalRole
from changegate.domain.cab import Outcome
from changegate.domain.changes import ChangeType, Risk
from changegate.domain.errors import (
    BadInput,
    Forbidden,
    InvalidTransition,
    Refused,
    VersionMoved,
)
from changegate.services import cab, changes, lifecycle, users
from changegate.services.views import cab as views
from changegate.services.views import changes as change_views
from tests.builders import T0, add_people, make_fields

ALICE, RITA = "alice@example.com", "rita@example.com"
BOB, CAROL, IVY, MAX = "bob@example.com", "carol@example.com", "ivy@example.com", "max@example.com"
HELD = T0 + timedelta(days=1)


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    # A requester who also sits on the CAB: at a meeting she may not approve her own change.
    app.run(
        lambda ctx: users.add_user(ctx, RITA, "Rita Requester and CAB", ["requester", "cab"]),
        actor="local-admin",
        at=T0,
    )
    return app


def at(minutes: int) -> Any:
    return T0 + timedelta(minutes=minutes)


def act(app: App, actor: str, fn: Any, *args: Any, minutes: int = 5, **kw: Any) -> Any:
    return app.run(lambda ctx: fn(ctx, *args, **kw), actor=actor, at=at(minutes))


def change(app: App, by: str = ALICE, submit: bool = True, **fields: Any) -> str:
    key: str = act(app, by, lambda ctx: changes.create(ctx, make_fields(**fields)).key, minutes=1)
    if submit:
        act(app, by, changes.submit, key, minutes=2)
    return key


def meeting(app: App, title: str = "") -> int:
    made: int = act(app, BOB, lambda ctx: cab.create_meeting(ctx, HELD, title).id, minutes=10)
    return made


def show(app: App, meeting_id: int) -> views.MeetingOut:
    return app.run(lambda ctx: views.show(ctx, meeting_id))


def decide(app: App, who: str, meeting_id: int, key: str, outcome: Outcome, **kw: Any) -> Any:
    version = kw.pop("version", 1)
    return act(app, who, cab.decide_item, meeting_id, key, outcome, version, minutes=30, **kw)


def attend(app: App, meeting_id: int, *people: str) -> None:
    for n, who in enumerate(people):
        act(app, who, cab.attend, meeting_id, minutes=20 + n)


def records(app: App, action: str) -> list[dict[str, Any]]:
    stmt = select(LedgerRecord.payload).where(LedgerRecord.action == action)
    stmt = stmt.order_by(LedgerRecord.seq)
    return app.run(lambda ctx: [json.loads(p) for p in ctx.session.execute(stmt).scalars()])


def test_the_agenda_is_every_change_awaiting_cab_pinned_at_its_version(org: App) -> None:
    change(org, submit=False)  # CHG-1: a draft awaits nothing
    change(org)  # CHG-2: submitted, awaiting approval
    emergency = change(org, change_type=ChangeType.EMERGENCY)  # CHG-3
    act(org, ALICE, lifecycle.implement, emergency, minutes=3)  # now awaits retro approval
    cancelled = change(org)  # CHG-4
    act(org, ALICE, changes.cancel, cancelled, minutes=3)
    made = meeting(org, "Weekly CAB")
    out = show(org, made)
    assert [(i.position, i.change, i.kind, i.version, i.moved) for i in out.agenda] == [
        (1, "CHG-2", "approval", 1, False),
        (2, "CHG-3", "retroactive", 1, False),
    ]
    assert (out.title, out.status, out.created_by, out.held_at) == ("Weekly CAB", "open", BOB, HELD)
    [created] = records(org, "cab.meeting_created")
    assert [(a["change"], a["version"], a["kind"]) for a in created["agenda"]] == [
        ("CHG-2", 1, "approval"),
        ("CHG-3", 1, "retroactive"),
    ]


def test_an_item_whose_change_moved_is_shown_and_a_stale_decision_refused(org: App) -> None:
    key = change(org)
    made = meeting(org)
    act(org, ALICE, changes.edit, key, {"scope": "all gateways"}, minutes=15)
    [item] = show(org, made).agenda
    assert (item.version, item.current_version, item.moved) == (1, 2, True)
    attend(org, made, BOB)
    with pytest.raises(VersionMoved):
        decide(org, BOB, made, key, Outcome.APPROVED, version=1)
    with pytest.raises(VersionMoved):
        decide(org, BOB, made, key, Outcome.DEFERRED, version=1, reason="later")
    decide(org, BOB, made, key, Outcome.APPROVED, version=2)
    [d] = show(org, made).agenda[0].decisions
    assert (d.by, d.role, d.outcome, d.version) == (BOB, "cab", "approved", 2)


def test_the_requester_cannot_approve_their_own_change_at_the_meeting(org: App) -> None:
    key = change(org, by=RITA)
    made = meeting(org)
    attend(org, made, RITA)
    with pytest.raises(Refused, match=r"SoD: rita@example\.com requested this change"):
        decide(org, RITA, made, key, Outcome.APPROVED)
    assert show(org, made).agenda[0].decisions == []
    assert records(org, "cab.item_decided") == []


def test_a_high_risk_change_needs_the_policys_quorum_and_decisions_are_approvals(
    org: App,
) -> None:
    key = change(org, risk=Risk.HIGH)  # policy: 2 CAB approvals and the ISO
    made = meeting(org)
    attend(org, made, BOB, IVY, CAROL)
    decide(org, BOB, made, key, Outcome.APPROVED)
    decide(org, IVY, made, key, Outcome.APPROVED)
    shown = org.run(lambda ctx: change_views.show(ctx, key))
    assert (shown.status, shown.awaiting) == ("submitted", ["1 more CAB approval"])
    decide(org, CAROL, made, key, Outcome.APPROVED)
    assert org.run(lambda ctx: change_views.show(ctx, key)).status == "approved"
    rows = org.run(
        lambda ctx: [
            (d.decider.email, d.role, a.approver.email, a.role, a.version, a.decision)
            for d, a in ctx.session.execute(
                select(CabDecision, Approval)
                .join(Approval, CabDecision.approval_id == Approval.id)
                .order_by(CabDecision.id)
            ).all()
        ]
    )
    assert rows == [
        (BOB, "cab", BOB, "cab", 1, "approved"),
        (IVY, "iso", IVY, "iso", 1, "approved"),
        (CAROL, "cab", CAROL, "cab", 1, "approved"),
    ]
    assert len(records(org, "change.approved")) == 1


def test_one_person_counts_once_and_an_item_off_the_agenda_is_bad_input(org: App) -> None:
    key = change(org)
    made = meeting(org)
    later = change(org)  # submitted after the agenda was made
    attend(org, made, MAX)
    decide(org, MAX, made, key, Outcome.APPROVED, role=ApprovalRole.CAB)
    with pytest.raises(Refused, match="one person's decision counts for one role only"):
        decide(org, MAX, made, key, Outcome.APPROVED, role=ApprovalRole.ISO)
    with pytest.raises(BadInput, match=f"{later} is not on the agenda of CAB meeting {made}"):
        decide(org, MAX, made, later, Outcome.APPROVED)


def test_only_members_present_decide_and_nobody_marks_another_present(org: App) -> None:
    key = change(org)
    made = meeting(org)
    with pytest.raises(Refused, match=r"bob@example\.com is not marked present"):
        decide(org, BOB, made, key, Outcome.APPROVED)
    with pytest.raises(Forbidden, match="may mark only themself present"):
        act(org, BOB, cab.attend, made, CAROL)
    with pytest.raises(Forbidden, match="needs the cab or iso role"):
        act(org, ALICE, cab.attend, made)
    with pytest.raises(Forbidden, match="needs the cab or iso role"):
        act(org, "aud@example.com", cab.create_meeting, HELD)
    attend(org, made, BOB)
    with pytest.raises(Refused, match="already marked present"):
        attend(org, made, BOB)
    with pytest.raises(Forbidden, match="does not hold the iso role"):
        decide(org, BOB, made, key, Outcome.DEFERRED, reason="x", role=ApprovalRole.ISO)
    assert [(a.email, a.roles) for a in show(org, made).attendance] == [(BOB, ["cab"])]
    assert records(org, "cab.attended") == [{"email": BOB, "roles": ["cab"]}]


def test_a_deferral_needs_a_reason_and_leaves_the_change_awaiting(org: App) -> None:
    key = change(org)
    made = meeting(org)
    attend(org, made, BOB)
    with pytest.raises(BadInput, match="a deferred item needs a --reason"):
        decide(org, BOB, made, key, Outcome.DEFERRED, reason="  ")
    decide(org, BOB, made, key, Outcome.DEFERRED, reason="wait for the load test")
    [d] = show(org, made).agenda[0].decisions
    assert (d.outcome, d.reason, d.approval_id) == ("deferred", "wait for the load test", None)
    assert org.run(lambda ctx: change_views.show(ctx, key)).approvals == []
    assert org.run(lambda ctx: change_views.show(ctx, key)).status == "submitted"


def test_a_closed_meeting_refuses_every_write_and_its_hash_is_the_minutes(org: App) -> None:
    key = change(org)
    made = meeting(org, "Weekly CAB")
    attend(org, made, BOB)
    decide(org, BOB, made, key, Outcome.APPROVED)
    act(org, IVY, cab.edit_minutes, made, "Approved CHG-1.\nNo other business.", minutes=40)
    act(org, CAROL, cab.close_meeting, made, minutes=50)
    for fn, args in (
        (cab.attend, ()),
        (cab.edit_minutes, ("rewritten",)),
        (cab.close_meeting, ()),
        (cab.decide_item, (key, Outcome.DEFERRED, 1, "x")),
    ):
        with pytest.raises(InvalidTransition, match="CAB meeting that is closed"):
            act(org, CAROL, fn, made, *args, minutes=60)
    c = org.run(lambda ctx: change_views.show(ctx, key))
    approval_id = show(org, made).agenda[0].decisions[0].approval_id
    expected = {
        "meeting": made,
        "title": "Weekly CAB",
        "held_at": "2026-11-03T09:00:00.000000+00:00",
        "created_by": BOB,
        "attendees": [{"email": BOB, "roles": ["cab"], "at": "2026-11-02T09:20:00.000000+00:00"}],
        "agenda": [
            {
                "position": 1,
                "change": "CHG-1",
                "title": "Rotate TLS certificates",
                "kind": "approval",
                "version": 1,
                "version_hash": c.version_hash,
                "decisions": [
                    {
                        "by": BOB,
                        "role": "cab",
                        "outcome": "approved",
                        "version": 1,
                        "reason": "",
                        "approval_id": approval_id,
                        "at": "2026-11-02T09:30:00.000000+00:00",
                    }
                ],
            }
        ],
        "minutes": "Approved CHG-1.\nNo other business.",
        "closed_by": CAROL,
        "closed_at": "2026-11-02T09:50:00.000000+00:00",
    }
    digest = hashlib.sha256(rfc8785.dumps(expected)).hexdigest()
    [closed] = records(org, "cab.meeting_closed")
    assert closed == {"sha256": digest, "attendees": 1, "items": 1, "decisions": 1}
    out = show(org, made)
    assert (out.status, out.minutes_sha256, out.closed_by) == ("closed", digest, CAROL)
    assert records(org, "cab.minutes_edited") == [
        {"minutes": "Approved CHG-1.\nNo other business."}
    ]


def test_the_minutes_document_escapes_text_and_the_pdf_is_a_pdf(org: App) -> None:
    change(org, title="<b>bold</b> change")
    made = meeting(org, "<script>alert(1)</script>")
    act(org, BOB, cab.edit_minutes, made, "a < b & <img src=x onerror=alert(1)>", minutes=40)
    html, pdf = org.run(lambda ctx: cab.minutes_document(ctx.session, made))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; change" in html
    assert "not frozen" in html
    assert pdf.startswith(b"%PDF")
    act(org, BOB, cab.close_meeting, made, minutes=50)
    closed_html, _ = org.run(lambda ctx: cab.minutes_document(ctx.session, made))
    assert show(org, made).minutes_sha256 in closed_html and "not frozen" not in closed_html


def test_meetings_between_is_half_open(org: App) -> None:
    first = meeting(org)
    second = act(org, BOB, lambda ctx: cab.create_meeting(ctx, HELD + timedelta(days=7)).id)

    def between(days: int, until: int) -> list[int]:
        start, end = HELD + timedelta(days=days), HELD + timedelta(days=until)
        return org.run(lambda ctx: [m.id for m in cab.meetings_between(ctx.session, start, end)])

    assert between(0, 7) == [first]
    assert between(0, 8) == [first, second]
    assert between(1, 7) == []
    assert between(7, 8) == [second]
