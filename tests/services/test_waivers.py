"""Waivers (EXC-1) through the services, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from changegate.bootstrap import App
from changegate.db.models import LedgerRecord, Notification, Review
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.errors import BadInput, Forbidden, NotFound, Refused
from changegate.domain.waivers import Window
from changegate.policy import WaiverSettings
from changegate.services import changes, waiver_reviews, waivers
from changegate.services.views import waivers as waiver_views
from tests.builders import T0, add_people, make_fields
from tests.services.test_concurrency import assert_chain_linear, race

ALICE, BOB, CAROL, IVY, MAX = (
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "ivy@example.com",
    "max@example.com",
)
CAB, ISO = ApprovalRole.CAB, ApprovalRole.ISO
OK, NO = Decision.APPROVED, Decision.REJECTED
DAY = timedelta(days=1)


@pytest.fixture
def org(app: App) -> App:
    add_people(app)
    return app


def at(days: float = 0, minutes: int = 0) -> datetime:
    return T0 + timedelta(days=days, minutes=minutes)


def request(app: App, who: str = ALICE, when: datetime = T0, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "title": "Skip staging for the hotfix",
        "justification": "staging is down for a week",
        "compensating_controls": "canary at 1% with automatic rollback",
        "controls": ["cm-4"],
        "scope_kind": "environment",
        "scope_value": "production",
        "days": 30,
    } | overrides
    return app.run(lambda ctx: waivers.request(ctx, **args).key, actor=who, at=when)


def as_dict(model: Any) -> dict[str, Any]:
    out: dict[str, Any] = model.model_dump(mode="json")
    return out


def decide(
    app: App,
    who: str,
    key: str,
    role: ApprovalRole,
    decision: Decision = OK,
    comment: str = "",
    when: datetime | None = None,
) -> dict[str, Any]:
    return app.run(
        lambda ctx: as_dict(waiver_views.waiver(waivers.decide(ctx, key, role, decision, comment))),
        actor=who,
        at=when or at(minutes=5),
    )


def activate(app: App, key: str, when: datetime | None = None) -> dict[str, Any]:
    decide(app, BOB, key, CAB, when=when)
    return decide(app, IVY, key, ISO, when=when)


def review(
    app: App, who: str, key: str, outcome: str, when: datetime, days: int | None = None
) -> dict[str, Any]:
    return app.run(
        lambda ctx: as_dict(
            waiver_views.waiver(
                waiver_reviews.review(
                    ctx, key, outcome, "compensating controls held; no incidents", days
                )
            )
        ),
        actor=who,
        at=when,
    )


def show(app: App, key: str) -> dict[str, Any]:
    return app.read(lambda ctx: as_dict(waiver_views.show(ctx, key)))


def ledger(app: App, subject: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    def read(ctx: Any) -> list[tuple[str, dict[str, Any]]]:
        stmt = select(LedgerRecord.action, LedgerRecord.payload).order_by(LedgerRecord.seq)
        if subject:
            stmt = stmt.where(LedgerRecord.subject == subject)
        return [(a, json.loads(p)) for a, p in ctx.session.execute(stmt).all()]

    return app.read(read)


def actions(app: App, subject: str | None = None) -> list[str]:
    return [a for a, _ in ledger(app, subject)]


def notified(app: App, event_key: str) -> list[str]:
    return app.read(
        lambda ctx: sorted(
            ctx.session.execute(
                select(Notification.recipient).where(Notification.event_key == event_key)
            ).scalars()
        )
    )


def test_request_is_recorded_and_asks_cab_and_iso(org: App) -> None:
    key = request(org)
    assert (key, request(org, controls=["CM-4", "cm-5"])) == ("WVR-1", "WVR-2")
    shown = show(org, key)
    assert (shown["status"], shown["round"], shown["days"]) == ("requested", 1, 30)
    assert shown["controls"] == ["CM-4"] and shown["periods"] == []
    assert shown["scope"] == {"kind": "environment", "value": "production"}
    assert shown["missing"] == ["a CAB approval", "the ISO's approval"]
    [(action, payload)] = ledger(org, key)
    assert action == "waiver.requested" and payload["days"] == 30
    assert payload["compensating_controls"] == "canary at 1% with automatic rollback"
    assert notified(org, "waiver.requested:WVR-1:1") == [
        BOB,
        "carol@example.com",
        "cody@example.com",
        IVY,
        MAX,
    ]


def test_change_scope_names_an_existing_change(org: App) -> None:
    chg = org.run(lambda ctx: changes.create(ctx, make_fields()).key, actor=ALICE)
    key = request(org, scope_kind="change", scope_value=chg.lower())
    assert show(org, key)["scope"] == {"kind": "change", "value": chg}
    with pytest.raises(NotFound, match="no change CHG-9"):
        request(org, scope_kind="change", scope_value="CHG-9")


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"controls": ["CM-4", "XX-9"]}, BadInput, "unknown control 'XX-9'"),
        ({"controls": []}, BadInput, "at least one --control"),
        ({"controls": ["EXC-1"]}, Refused, "cannot be waived"),
        ({"justification": "  "}, BadInput, "--justification"),
        ({"compensating_controls": ""}, BadInput, "--compensating"),
        ({"title": ""}, BadInput, "--title"),
        ({"days": 0}, BadInput, "at least 1 day"),
        ({"days": 91}, Refused, "waivers.max_days"),
        ({"scope_kind": "team"}, BadInput, "unknown scope kind 'team'"),
        ({"scope_value": " "}, BadInput, "needs a value"),
        ({"scope_value": "moon"}, BadInput, "unknown environment 'moon'"),
    ],
)
def test_request_validation_writes_nothing(
    org: App, overrides: dict[str, Any], error: type[Exception], message: str
) -> None:
    before = len(actions(org))
    with pytest.raises(error, match=message):
        request(org, **overrides)
    assert len(actions(org)) == before
    assert request(org) == "WVR-1"  # the failed request's number was rolled back too


def test_auditors_hr_and_pipelines_cannot_request(org: App) -> None:
    for who in ("aud@example.com", "hana@example.com", "ci@example.com"):
        with pytest.raises(Forbidden):
            request(org, who=who)


def test_requester_never_decides(org: App) -> None:
    key = request(org, who=BOB)  # a CAB member asking for an exception of their own
    with pytest.raises(Refused, match=re.escape("EXC-1: bob@example.com requested this waiver")):
        decide(org, BOB, key, CAB)
    with pytest.raises(Forbidden, match="does not hold the cab role"):
        decide(org, ALICE, key, CAB)


def test_one_person_cannot_be_both_cab_and_iso(org: App) -> None:
    key = request(org)
    decide(org, MAX, key, CAB)
    with pytest.raises(Refused, match="needs two different people"):
        decide(org, MAX, key, ISO)
    assert show(org, key)["status"] == "requested"
    assert decide(org, IVY, key, ISO)["status"] == "active"


def test_active_only_after_both_approvals_with_the_requested_window(org: App) -> None:
    key = request(org)
    first = decide(org, IVY, key, ISO, when=at(1))
    assert (first["status"], first["missing"]) == ("requested", ["a CAB approval"])
    assert first["active_from"] is None
    done = decide(org, BOB, key, CAB, when=at(2))
    assert done["status"] == "active" and done["missing"] == []
    assert done["active_from"] == at(2).isoformat()
    assert done["expires_at"] == (at(2) + 30 * DAY).isoformat()
    assert done["periods"] == [
        {"round": 1, "start": at(2).isoformat(), "end": (at(2) + 30 * DAY).isoformat()}
    ]
    assert actions(org, key) == [
        "waiver.requested",
        "waiver.approved",
        "waiver.approved",
        "waiver.activated",
    ]
    activated = ledger(org, key)[-1][1]
    assert (activated["cab"], activated["iso"], activated["capped"]) == ([BOB], [IVY], False)
    [cover] = org.read(waivers.covers)
    assert cover.windows == (Window(at(2), at(32)),)
    assert cover.covers("CM-4", {"environment": "Production"}, at(31))
    assert not cover.covers("CM-4", {"environment": "production"}, at(32))
    assert not cover.covers("CM-5", {"environment": "production"}, at(3))


def test_window_is_capped_by_the_policy_at_approval_time(org: App) -> None:
    key = request(org, days=60)
    stricter = dataclasses.replace(
        org, policy=org.policy.model_copy(update={"waivers": WaiverSettings(max_days=10)})
    )
    decide(stricter, BOB, key, CAB, when=at(1))
    done = decide(stricter, IVY, key, ISO, when=at(1))
    assert done["expires_at"] == at(11).isoformat()
    assert ledger(org, key)[-1][1]["capped"] is True


def test_rejection_needs_a_reason_and_ends_the_request(org: App) -> None:
    key = request(org)
    with pytest.raises(BadInput, match="needs a --comment"):
        decide(org, IVY, key, ISO, NO)
    assert decide(org, IVY, key, ISO, NO, "no compensating monitoring")["status"] == "rejected"
    with pytest.raises(Refused, match="WVR-1 is rejected; nothing awaits a decision"):
        decide(org, BOB, key, CAB)
    assert actions(org, key)[-1] == "waiver.rejected"
    assert org.read(waivers.covers) == []


def test_expire_due_is_idempotent_and_asks_for_review(org: App) -> None:
    key = request(org)
    activate(org, key, when=T0)
    expire = waiver_reviews.expire_due
    assert org.run(expire, at=T0 + 30 * DAY - timedelta(seconds=1)) == 0
    assert org.run(expire, at=T0 + 30 * DAY) == 1
    assert org.run(expire, at=T0 + 31 * DAY) == 0
    assert show(org, key)["status"] == "expired"
    assert actions(org, key).count("waiver.expired") == 1
    assert IVY in notified(org, "waiver.expired:WVR-1:1")


def test_renewal_needs_a_fresh_round_and_the_old_window_holds_meanwhile(org: App) -> None:
    key = request(org)
    activate(org, key, when=T0)
    renewing = review(org, CAROL, key, "renew", at(29), days=15)
    assert (renewing["status"], renewing["round"], renewing["days"]) == ("renewal", 2, 15)
    assert renewing["missing"] == ["a CAB approval", "the ISO's approval"]
    assert renewing["reviewed_at"] == at(29).isoformat()
    assert notified(org, "waiver.requested:WVR-1:2")
    [cover] = org.read(waivers.covers)
    assert cover.covers("CM-4", {"environment": "production"}, at(29.5))
    assert not cover.covers("CM-4", {"environment": "production"}, at(30.5))
    # Round 1's approvals do not count for round 2; the same people may approve again.
    assert decide(org, BOB, key, CAB, when=at(31))["status"] == "renewal"
    renewed = decide(org, IVY, key, ISO, when=at(31))
    assert renewed["status"] == "active" and renewed["reviewed_at"] is None
    assert [p["round"] for p in renewed["periods"]] == [1, 2]
    assert renewed["expires_at"] == at(46).isoformat()
    [cover] = org.read(waivers.covers)
    assert not cover.covers("CM-4", {"environment": "production"}, at(30.5))  # the gap
    assert cover.covers("CM-4", {"environment": "production"}, at(45))


def test_a_refused_renewal_closes_the_waiver_and_ends_its_window(org: App) -> None:
    key = request(org)
    activate(org, key, when=T0)
    review(org, CAROL, key, "renew", at(20))
    closed = decide(org, IVY, key, ISO, NO, "compensating controls failed", when=at(25))
    assert (closed["status"], closed["closed_at"]) == ("closed", at(25).isoformat())
    assert closed["periods"][0]["end"] == at(25).isoformat()
    [cover] = org.read(waivers.covers)
    assert not cover.covers("CM-4", {"environment": "production"}, at(26))


def test_requester_never_reviews_and_readers_never_review(org: App) -> None:
    key = request(org, who=BOB)
    decide(org, CAROL, key, CAB, when=T0)
    decide(org, IVY, key, ISO, when=T0)
    with pytest.raises(Refused, match=re.escape(f"{BOB} requested WVR-1 and may not review it")):
        review(org, BOB, key, "close", at(29))
    for who in (ALICE, "aud@example.com", "hana@example.com"):
        with pytest.raises(Forbidden):
            review(org, who, key, "close", at(29))
    assert show(org, key)["status"] == "active"


def test_close_ends_the_window_and_a_late_review_is_flagged(org: App) -> None:
    early, late = request(org), request(org)
    activate(org, early, when=T0)
    activate(org, late, when=T0)
    closed = review(org, IVY, early, "close", at(10))
    assert (closed["status"], closed["closed_at"]) == ("closed", at(10).isoformat())
    assert closed["periods"][0]["end"] == at(10).isoformat()
    org.run(waiver_reviews.expire_due, at=at(31))
    review(org, BOB, late, "close", at(33))
    payloads = {
        subject: p
        for subject in (early, late)
        for a, p in ledger(org, subject)
        if a == "waiver.reviewed"
    }
    assert (payloads[early]["late"], payloads[late]["late"]) == (False, True)
    with pytest.raises(Refused, match="WVR-1 is closed; only an active or expired"):
        review(org, BOB, early, "renew", at(34))
    with pytest.raises(BadInput, match="renew or close"):
        review(org, BOB, late, "extend", at(34))
    covering = {c.key: c for c in org.read(waivers.covers)}
    assert not covering[early].covers("CM-4", {"environment": "production"}, at(11))
    assert covering[late].covers("CM-4", {"environment": "production"}, at(29))


def test_quarterly_review_is_signed_by_the_iso_after_the_quarter(org: App) -> None:
    kept, closed, refused = request(org), request(org), request(org)
    activate(org, kept, when=T0)
    activate(org, closed, when=T0)
    decide(org, IVY, refused, ISO, NO, "no")
    review(org, BOB, closed, "close", at(5))
    org.run(waiver_reviews.expire_due, at=at(31))
    quarter = waiver_reviews.review_quarter
    with pytest.raises(Refused, match="2026-Q4 has not ended yet"):
        org.run(lambda ctx: quarter(ctx, "2026-q4"), actor=IVY, at=at(40))
    with pytest.raises(Forbidden):
        org.run(lambda ctx: quarter(ctx, "2026-Q4"), actor=BOB, at=at(60))
    with pytest.raises(BadInput, match="not a quarter"):
        org.run(lambda ctx: quarter(ctx, "2026-Q5"), actor=IVY, at=at(60))
    review_id = org.run(lambda ctx: quarter(ctx, "2026-q4").id, actor=IVY, at=at(60))
    summary = org.read(lambda ctx: ctx.session.get(Review, review_id).summary)
    report = json.loads(summary)
    assert report["quarter"] == "2026-Q4"
    assert report["requested"] == [kept, closed, refused]
    assert [a["key"] for a in report["active"]] == [kept, closed]
    assert [(e["key"], e["at"]) for e in report["expired"]] == [(kept, at(30).isoformat())]
    assert [c["key"] for c in report["closed"]] == [closed]
    assert {(d["key"], d["decision"]) for d in report["decisions"]} >= {(refused, "rejected")}
    assert summary == json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    [(action, payload)] = ledger(org, "quarter:2026-Q4")
    assert action == "waiver.quarterly_reviewed"
    assert payload["sha256"] == hashlib.sha256(summary.encode()).hexdigest()
    kind = org.read(lambda ctx: ctx.session.get(Review, review_id).kind)
    assert kind == "waiver_quarterly"


def test_two_approvals_at_once_activate_exactly_once(org: App) -> None:
    keys = [request(org) for _ in range(4)]
    for key in keys:
        results = race(
            2,
            lambda i, key=key: org.run(
                lambda ctx: waivers.decide(ctx, key, (CAB, ISO)[i], OK).status,
                actor=(BOB, IVY)[i],
                at=at(1),
            ),
        )
        assert sorted(results) == ["active", "requested"], results
        assert Counter(actions(org, key))["waiver.activated"] == 1
        assert len(show(org, key)["periods"]) == 1
    assert_chain_linear(org)


def test_one_person_racing_as_cab_and_iso_counts_once(org: App) -> None:
    key = request(org)
    results = race(
        2,
        lambda i: org.run(
            lambda ctx: waivers.decide(ctx, key, (CAB, ISO)[i], OK).status, actor=MAX, at=at(1)
        ),
    )
    assert sum(isinstance(r, Refused) for r in results) == 1, results
    assert show(org, key)["status"] == "requested"


def test_two_expiry_workers_at_once_expire_each_waiver_once(org: App) -> None:
    keys = [request(org) for _ in range(3)]
    for key in keys:
        activate(org, key, when=T0)
    results = race(2, lambda _: org.run(waiver_reviews.expire_due, at=at(31)))
    assert sorted(results) == [0, 3], results
    assert actions(org).count("waiver.expired") == 3
    count = org.read(
        lambda ctx: ctx.session.execute(
            select(func.count())
            .select_from(Notification)
            .where(Notification.event_key.like("waiver.expired:%"))
        ).scalar_one()
    )
    assert count == 3 * len(notified(org, "waiver.expired:WVR-1:1"))
    assert_chain_linear(org)
