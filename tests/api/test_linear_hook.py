"""Linear as the front door, end to end on both databases: a signed delivery to /hooks/linear,
the worker's outbox re-reading the issue from a local Linear (changegate/sandbox/linear.py, which
executes every operation against Linear's published schema), and what goes back to the issue."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from changegate import bootstrap
from changegate.api.app import create_app
from changegate.bootstrap import App
from changegate.cli.runner import Delivery, drain
from changegate.config import Settings
from changegate.config_linear import LinearSettings
from changegate.db.models import Change, LedgerRecord, Notification, Waiver, WebhookDelivery
from changegate.sandbox.linear import API_KEY, FakeLinear
from changegate.services import outbox
from tests.api.conftest import Api
from tests.builders import PEOPLE

SECRET = "linear-webhook-secret"
SAMPLES = Path(__file__).parents[1] / "fixtures" / "linear-webhooks" / "korosuke613-linear-webhook"
REQUESTER = "alice@example.com"
TEMPLATE = """Rotating the payments API certificate before it expires.

## Scope
Replace the TLS certificate on payments-api's load balancer.

## Impact assessment
Clients reconnect once; no downtime expected.

## Rollback plan
Re-import the previous certificate from the vault and redeploy.

## Risk
Low

## Services
- payments-api

## Environments
production
"""
WAIVER = """## Justification
The vendor's appliance cannot run our agent.

## Compensating controls
Weekly manual configuration review.

## Controls
- CM-5

## Scope
environment: production

## Duration
14 days
"""


class Clock:
    """Real time, moved ahead by the test: webhooks are checked against the real clock."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)


@dataclass
class Front:
    api: Api
    linear: FakeLinear
    clock: Clock

    def deliver(
        self,
        issue: dict[str, Any],
        delivery: str,
        secret: str = SECRET,
        stamp: datetime | None = None,
        sample: str = "updateIssueForLabel.json",
    ) -> httpx.Response:
        """A delivery shaped as Linear's real sample, about `issue`, signed with `secret`."""
        payload = json.loads((SAMPLES / sample).read_text())
        payload["data"]["id"] = issue["id"]
        payload["data"]["identifier"] = issue["identifier"]
        payload["webhookTimestamp"] = int((stamp or datetime.now(UTC)).timestamp() * 1000)
        body = json.dumps(payload).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return self.api.client.post(
            "/hooks/linear",
            content=body,
            headers={
                "Linear-Signature": signature,
                "Linear-Delivery": delivery,
                "Linear-Event": payload["type"],
                "Content-Type": "application/json",
            },
        )

    def work(self) -> Delivery:
        """One pass of the worker's outbox, as `changegate worker` runs it."""
        with ExitStack() as closing:
            notifiers = bootstrap.notifiers(self.api.app.settings, closing, self.api.app)
            return drain(self.api.app, notifiers, "worker-1", self.clock)

    def read(self, fn: Any) -> Any:
        return self.api.app.read(lambda ctx: fn(ctx.session))


@pytest.fixture
def front(db_url: str) -> Iterator[Front]:
    with FakeLinear() as fake:
        settings = Settings(
            database_url=db_url, linear=LinearSettings(API_KEY, False, SECRET, fake.url)
        )
        app: App = bootstrap.build(settings)

        def seed(ctx: Any) -> dict[str, str]:
            from changegate.services import tokens, users

            out = {}
            for email, (name, roles) in PEOPLE.items():
                users.add_user(ctx, email, name, roles)
                out[email] = tokens.create_token(ctx, email, "t", 1)[1]
            return out

        secrets = app.run(seed, actor="local-admin")
        with TestClient(create_app(app), raise_server_exceptions=False) as client:
            yield Front(Api(app, client, secrets), fake, Clock())
        app.engine.dispose()
    assert not fake.errors, f"the local Linear refused what changegate sent: {fake.errors!r}"


def changes(front: Front) -> list[tuple[str, str, str, int]]:
    return front.read(
        lambda s: [
            (c.key, c.status, c.ticket, c.version)
            for c in s.execute(select(Change).order_by(Change.id)).scalars()
        ]
    )


def written(front: Front) -> tuple[int, int, int]:
    """Ledger records, deliveries and outbox rows: what a refused delivery must not add to."""
    return front.read(
        lambda s: tuple(
            len(s.execute(select(t)).all()) for t in (LedgerRecord, WebhookDelivery, Notification)
        )
    )


def approve(front: Front, key: str, version: int = 1) -> None:
    for who, role in (("bob@example.com", "cab"), ("ivy@example.com", "iso")):
        response = front.api.call(
            who,
            "POST",
            f"/api/v1/changes/{key}/approvals",
            json={"role": role, "decision": "approved", "version": version},
        )
        assert response.status_code == 200, response.text


def test_a_labelled_issue_becomes_a_submitted_change_with_its_ticket(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    response = front.deliver(issue, "d-1")
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "queued", "delivery": "d-1", "issue": issue["id"]}
    assert changes(front) == []  # answered at once; the worker does the work

    assert front.work().delivered == 1
    assert changes(front) == [("CHG-1", "submitted", issue["identifier"], 1)]
    assert "Issue" in front.linear.operations  # re-read over GraphQL, not taken from the payload
    creator = front.read(lambda s: s.execute(select(Change)).scalar_one().requester.email)
    assert creator == REQUESTER
    linked = front.read(
        lambda s: (
            s.execute(select(LedgerRecord).where(LedgerRecord.action == "linear.linked"))
            .scalar_one()
            .payload
        )
    )
    assert issue["url"] in linked and issue["identifier"] in linked


def test_an_incomplete_issue_gets_a_comment_and_no_change(front: Front) -> None:
    description = TEMPLATE.split("## Rollback plan", maxsplit=1)[0] + "## Risk\nextreme\n"
    issue = front.linear.add_issue("Rotate payments cert", description, REQUESTER)
    assert front.deliver(issue, "d-2").status_code == 202
    front.work()
    assert changes(front) == []
    [comment] = front.linear.comments_on(issue)
    for wanted in ("## Rollback plan", "## Services", "## Environments", "low, medium, high"):
        assert wanted in comment
    # The same complaint is not posted twice; fixing the issue creates the change.
    assert front.deliver(issue, "d-3").status_code == 202
    front.work()
    assert len(front.linear.comments_on(issue)) == 1
    front.linear.edit(issue, description=TEMPLATE)
    assert front.deliver(issue, "d-4").status_code == 202
    front.work()
    assert changes(front) == [("CHG-1", "submitted", issue["identifier"], 1)]


def test_an_unknown_creator_gets_a_comment_and_nothing_is_created(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, "stranger@example.com")
    front.deliver(issue, "d-5")
    front.work()
    assert changes(front) == []
    [comment] = front.linear.comments_on(issue)
    assert "stranger@example.com is not an active changegate user" in comment


def test_an_issue_without_the_label_is_left_alone(front: Front) -> None:
    issue = front.linear.add_issue("Fix typo", TEMPLATE, REQUESTER, labels=("bug",))
    front.deliver(issue, "d-6")
    front.work()
    assert changes(front) == [] and front.linear.comments_on(issue) == []


def test_a_material_edit_makes_a_new_version_and_approvals_stop_counting(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    front.deliver(issue, "d-7")
    front.work()
    approve(front, "CHG-1")
    assert changes(front)[0][1] == "approved"
    front.linear.edit(issue, description=TEMPLATE.replace("Low", "High"))
    front.deliver(issue, "d-8")
    front.work()
    assert changes(front) == [("CHG-1", "submitted", issue["identifier"], 2)]


def test_approvals_show_on_the_issue_as_state_and_attachment(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    front.deliver(issue, "d-9")
    front.work()
    approve(front, "CHG-1")
    front.work()

    assert front.linear.state_of(issue) == "Todo"  # the policy's state for `approved`
    [attachment] = front.linear.attachments_on(issue)
    assert attachment["url"].endswith("/changes/CHG-1")
    decided = {(a["role"], a["decision"], a["by"]) for a in attachment["metadata"]["approvals"]}
    assert decided == {
        ("cab", "approved", "bob@example.com"),
        ("iso", "approved", "ivy@example.com"),
    }
    assert all(a["at"].endswith("Z") for a in attachment["metadata"]["approvals"])
    assert "CAB approved" in attachment["subtitle"] and "ISO approved" in attachment["subtitle"]
    bodies = front.linear.comments_on(issue)
    assert any("approved: every approval the policy requires is in" in b for b in bodies)


def test_a_state_change_in_linear_approves_nothing(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    front.deliver(issue, "d-10")
    front.work()
    front.linear.edit(issue, stateId=front.linear.state("Done")["id"])
    front.deliver(issue, "d-11")
    front.work()
    assert changes(front)[0][1] == "submitted"


def test_an_exception_labelled_issue_becomes_a_waiver_request(front: Front) -> None:
    issue = front.linear.add_issue(
        "Appliance without agent", WAIVER, REQUESTER, labels=("exception-request",)
    )
    front.deliver(issue, "d-12")
    front.work()
    waivers = front.read(
        lambda s: [
            (w.key, w.status, w.requested_days, w.controls)
            for w in s.execute(select(Waiver)).scalars()
        ]
    )
    assert waivers == [("WVR-1", "requested", 14, ["CM-5"])]
    for who, role in (("bob@example.com", "cab"), ("ivy@example.com", "iso")):
        response = front.api.call(
            who,
            "POST",
            "/api/v1/waivers/WVR-1/approvals",
            json={"role": role, "decision": "approved"},
        )
        assert response.status_code == 200, response.text
    front.work()
    [attachment] = front.linear.attachments_on(issue)
    assert attachment["metadata"]["status"] == "active"
    assert {a["role"] for a in attachment["metadata"]["approvals"]} == {"cab", "iso"}
    assert front.linear.state_of(issue) == "Done"


@pytest.mark.parametrize(
    ("secret", "age", "status", "kind"),
    [
        ("wrong-secret", timedelta(0), 401, "bad-signature"),
        (SECRET, timedelta(seconds=61), 401, "stale-delivery"),
        (SECRET, timedelta(seconds=-61), 401, "stale-delivery"),
    ],
)
def test_a_bad_signature_or_stale_delivery_is_refused_and_writes_nothing(
    front: Front, secret: str, age: timedelta, status: int, kind: str
) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    before = written(front)
    response = front.deliver(issue, "d-13", secret, datetime.now(UTC) - age)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(kind)
    assert written(front) == before


def test_a_replayed_delivery_is_refused_with_409_and_queued_once(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    assert front.deliver(issue, "d-14").status_code == 202
    before = written(front)
    again = front.deliver(issue, "d-14")
    assert again.status_code == 409 and again.json()["type"].endswith("replayed-delivery")
    assert written(front) == before


def test_a_delivery_not_about_an_issue_is_ignored(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    response = front.deliver(issue, "d-15", sample="createIssue.json")
    assert response.status_code == 202  # an Issue create: queued
    project = front.deliver({"id": "x", "identifier": "x"}, "d-16", sample="createComment.json")
    assert project.json()["status"] == "queued"  # a comment names its issue: re-read it


def test_linear_down_waits_in_the_outbox_and_nothing_is_doubled(front: Front) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    front.deliver(issue, "d-17")
    front.work()
    approve(front, "CHG-1")
    front.linear.stop()
    tally = front.work()
    assert tally.delivered == 0 and tally.retrying >= 1
    assert front.linear.attachments_on(issue) == []
    front.linear.start()
    front.clock.advance(minutes=5)
    front.work()
    front.clock.advance(minutes=5)
    front.work()
    assert len(front.linear.attachments_on(issue)) == 1
    bodies = front.linear.comments_on(issue)
    assert len(bodies) == len(set(bodies))
    pending = front.read(
        lambda s: s.execute(select(Notification).where(Notification.status != "delivered")).all()
    )
    assert pending == []


def test_kill_9_mid_delivery_then_another_worker_doubles_nothing(front: Front, db_url: str) -> None:
    issue = front.linear.add_issue("Rotate payments cert", TEMPLATE, REQUESTER)
    front.deliver(issue, "d-18")
    front.work()
    approve(front, "CHG-1")
    front.linear.stall_on = "Comment"  # the attachment is sent; the comment's answer never comes
    env = os.environ | {
        "CHANGEGATE_DATABASE_URL": db_url,
        "CHANGEGATE_LINEAR_API_KEY": API_KEY,
        "CHANGEGATE_LINEAR_WEBHOOK_SECRET": SECRET,
        "CHANGEGATE_LINEAR_URL": front.linear.url,
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "changegate", "worker", "--once", "--worker-id", "doomed"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert front.linear.stalled.wait(120), "the worker never reached the comment"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(60)
        front.linear.stall_on = None
        front.linear.release.set()
    assert child.returncode == -signal.SIGKILL
    front.clock.advance(seconds=outbox.CLAIM_HOLD.total_seconds() + 60)
    front.work()
    assert len(front.linear.attachments_on(issue)) == 1
    bodies = front.linear.comments_on(issue)
    assert len(bodies) == len(set(bodies))
    assert front.linear.state_of(issue) == "Todo"
