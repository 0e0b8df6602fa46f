"""Delivering the outbox on both databases, against a real SMTP server and a real webhook.

The clock is moved by hand (the delivery loop reads it through the `clock` it is given); the
peers run on loopback and are stopped and started for real.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.cli.runner import Delivery, deliver, drain
from changegate.config import Settings
from changegate.db.models import LedgerRecord, Notification
from changegate.db.outbox import Outbox
from changegate.domain.errors import BadInput
from changegate.domain.users import Role
from changegate.integrations.notify import SlackNotifier, SmtpNotifier, SmtpRelay
from changegate.integrations.ports import Notifier, OutgoingMessage
from changegate.services import notifications, outbox
from changegate.services.context import Context
from tests.builders import T0, add_people
from tests.integrations.fake_notify import FakeRelay, FakeSlack

SENDER = "changegate@casper.example"


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.at

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.at += timedelta(**delta)
            return self.at


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    with FakeRelay() as fake:
        yield fake


@pytest.fixture
def people(app: App) -> App:
    add_people(app)
    return app


def email_to(relay: FakeRelay) -> dict[str, Notifier]:
    return {"email": SmtpNotifier(SmtpRelay("127.0.0.1", relay.port, SENDER, timeout=5.0))}


def queue(
    app: App,
    count: int,
    channels: tuple[str, ...] = ("email",),
    at: datetime = T0,
    role: Role = Role.HR,
) -> list[str]:
    """`count` events for HR (one person: hana), queued as the event's transaction would."""
    app.channels = channels
    subjects = [f"FND-{i}: unapproved change" for i in range(1, count + 1)]

    def work(ctx: Context) -> None:
        for i, subject in enumerate(subjects, start=1):
            notifications.enqueue(
                ctx, f"finding.reported:FND-{i}", subject, f"Finding {i} needs a decision.", [role]
            )

    app.run(work, at=at)
    return subjects


def rows(app: App, status: str | None = None) -> list[Notification]:
    """The outbox as it stands, detached (a read's rollback would otherwise expire it)."""

    def load(ctx: Context) -> list[Notification]:
        found = list(Outbox(ctx.session).page(status, 5000, 0).rows)
        ctx.session.expunge_all()
        return sorted(found, key=lambda r: r.id)

    return app.read(load)


def ledger_actions(app: App) -> Counter[str]:
    return Counter(
        app.read(
            lambda ctx: (
                ctx.session.execute(
                    select(LedgerRecord.action).where(LedgerRecord.action.like("notification.%"))
                )
                .scalars()
                .all()
            )
        )
    )


def test_retry_delay_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    delays = [outbox.retry_delay(n).total_seconds() for n in range(1, 13)]
    assert delays[:7] == [30, 60, 120, 240, 480, 960, 1920]
    assert delays[7:] == [3600] * 5


def test_queued_email_is_delivered_once_and_recorded(people: App, relay: FakeRelay) -> None:
    subjects = queue(people, 3)
    clock = Clock(T0 + timedelta(seconds=1))

    tally = deliver(people, email_to(relay), "w1", clock)
    clock.advance(hours=1)
    again = deliver(people, email_to(relay), "w1", clock)

    assert (tally.delivered, again.delivered) == (3, 0)
    assert sorted(relay.subjects()) == sorted(subjects)
    assert [r.rcpt_tos for r in relay.received] == [("hana@example.com",)] * 3
    assert {(r.status, r.attempts, r.delivered_at, r.claimed_by) for r in rows(people)} == {
        ("delivered", 1, T0 + timedelta(seconds=1), None)
    }
    assert ledger_actions(people) == {"notification.delivered": 3}


def test_relay_down_then_restarted_on_the_same_port_every_message_arrives_exactly_once(
    people: App,
) -> None:
    relay = FakeRelay()  # not started: the relay is down when the worker first looks
    subjects = queue(people, 6)
    notifiers = email_to(relay)
    clock = Clock(T0)
    ticks: list[Delivery] = []

    for _ in range(3):  # three ticks, thirty seconds apart, against a closed port
        ticks.append(deliver(people, notifiers, "w1", clock))
        clock.advance(seconds=30)
    # Each tick spends one attempt and hands the rest of the batch back untried.
    assert [(t.delivered, t.retrying, t.handed_back) for t in ticks] == [(0, 1, 5)] * 3
    waiting = rows(people)
    assert {r.status for r in waiting} == {"pending"}
    assert [r.attempts for r in waiting] == [1, 1, 1, 0, 0, 0]
    assert all("no response" in (r.last_error or "") for r in waiting[:3])
    assert [r.next_attempt_at - T0 for r in waiting[:3]] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=90),
    ]
    assert all(r.claimed_by is None for r in waiting)

    relay.start()  # the relay comes back, on the same port
    try:
        while len(ticks) < 10 and not all(r.status == "delivered" for r in rows(people)):
            ticks.append(deliver(people, notifiers, "w1", clock))
            clock.advance(seconds=30)
    finally:
        relay.stop()

    assert len(ticks) == 4  # everything due went out in the first tick after the restart
    assert ticks[-1].delivered == 6
    assert sorted(relay.subjects()) == sorted(subjects)
    assert set(relay.message_ids().values()) == {1} and len(relay.message_ids()) == 6
    assert [r.attempts for r in rows(people)] == [2, 2, 2, 1, 1, 1]
    assert ledger_actions(people) == {"notification.delivered": 6}


def test_a_claim_left_by_a_dead_worker_is_delivered_once_it_runs_out(
    people: App, relay: FakeRelay
) -> None:
    queue(people, 2)
    orphaned = people.run(lambda ctx: outbox.claim(ctx, "dead-worker", ["email"]), at=T0)
    assert len(orphaned) == 2  # committed; then the process died before sending

    early = deliver(people, email_to(relay), "w2", Clock(T0 + timedelta(minutes=4)))
    assert early == Delivery() and relay.received == []  # still held: nobody may send it

    late = deliver(people, email_to(relay), "w2", Clock(T0 + outbox.CLAIM_HOLD))
    assert late.delivered == 2
    assert len(relay.message_ids()) == 2 and set(relay.message_ids().values()) == {1}

    # The dead worker comes back to life: its claims are gone, it cannot overwrite the outcome.
    assert not people.run(lambda ctx: outbox.delivered(ctx, orphaned[0], "dead-worker"))
    assert people.run(lambda ctx: outbox.failed(ctx, orphaned[1], "dead-worker", "x")) is None
    assert {(r.status, r.attempts, r.last_error) for r in rows(people)} == {("delivered", 1, None)}


def test_two_workers_at_once_deliver_each_message_exactly_once(
    people: App, db_url: str, relay: FakeRelay
) -> None:
    subjects = queue(people, 30)
    other = bootstrap.build(Settings(database_url=db_url))  # a second process's engine
    clock = Clock(T0 + timedelta(seconds=1))
    barrier = threading.Barrier(2)
    tallies: dict[str, list[Delivery]] = {"w1": [], "w2": []}
    errors: list[BaseException] = []

    def loop(app: App, name: str) -> None:
        try:
            notifiers = email_to(relay)
            barrier.wait()
            while True:
                tally = deliver(app, notifiers, name, clock, limit=4)
                tallies[name].append(tally)
                if tally == Delivery():
                    return
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=loop, args=(a, n)) for a, n in ((people, "w1"), (other, "w2"))
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        other.engine.dispose()

    assert not errors, errors
    delivered = sum(t.delivered for ts in tallies.values() for t in ts)
    assert delivered == 30
    assert sum(t.lost for ts in tallies.values() for t in ts) == 0
    assert sorted(relay.subjects()) == sorted(subjects)
    assert set(relay.message_ids().values()) == {1}
    assert {r.status for r in rows(people)} == {"delivered"}
    assert ledger_actions(people) == {"notification.delivered": 30}


def test_slack_post_arrives_with_the_subject_and_body(people: App) -> None:
    queue(people, 1, channels=("slack",))
    with FakeSlack() as slack, httpx.Client(timeout=5.0) as client:
        tally = deliver(
            people, {"slack": SlackNotifier(slack.webhook_url, client)}, "w1", Clock(T0)
        )
    assert tally.delivered == 1
    assert slack.texts() == ["*FND-1: unapproved change*\nFinding 1 needs a decision."]
    # People got the in-app inbox copy at once; only the Slack row went through the worker.
    assert {(r.channel, r.status) for r in rows(people)} == {
        ("inbox", "delivered"),
        ("slack", "delivered"),
    }


def test_slack_500_is_retried_after_the_backoff(people: App) -> None:
    queue(people, 1, channels=("slack",))
    clock = Clock(T0)
    with FakeSlack() as slack, httpx.Client(timeout=5.0) as client:
        notifiers: dict[str, Notifier] = {"slack": SlackNotifier(slack.webhook_url, client)}
        slack.fail_next(1, 500)
        first = deliver(people, notifiers, "w1", clock)
        row = next(r for r in rows(people) if r.channel == "slack")
        assert (first.retrying, row.status, row.attempts) == (1, "pending", 1)
        assert row.last_error == "Slack webhook at 127.0.0.1: HTTP 500: rollup_error"
        assert row.next_attempt_at == T0 + timedelta(seconds=30)

        clock.advance(seconds=29)
        assert deliver(people, notifiers, "w1", clock) == Delivery()  # not due yet
        clock.advance(seconds=1)
        assert deliver(people, notifiers, "w1", clock).delivered == 1
        assert slack.requests == 2 and len(slack.posts) == 1


def test_a_message_that_keeps_failing_ends_dead_stays_visible_and_can_be_retried(
    people: App, relay: FakeRelay
) -> None:
    queue(people, 1)
    relay.refuse.add("hana@example.com")  # 550: the relay answers, so it is not "down"
    clock = Clock(T0)
    statuses = []
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        tally = deliver(people, email_to(relay), "w1", clock)
        statuses.append((tally.retrying, tally.dead))
        clock.advance(hours=1)
    assert statuses == [(1, 0)] * 11 + [(0, 1), (0, 0), (0, 0)]
    dead = rows(people, "dead")
    assert [(r.attempts, r.recipient) for r in dead] == [(12, "hana@example.com")]
    assert "SMTP 550" in (dead[0].last_error or "")
    assert ledger_actions(people) == {"notification.dead": 1}

    relay.refuse.clear()
    people.run(lambda ctx: outbox.retry(ctx, dead[0].id), actor="local-admin", at=clock())
    assert deliver(people, email_to(relay), "w1", clock).delivered == 1
    assert ledger_actions(people) == {
        "notification.dead": 1,
        "notification.retried": 1,
        "notification.delivered": 1,
    }
    with pytest.raises(BadInput, match="was delivered"):
        people.run(lambda ctx: outbox.retry(ctx, dead[0].id), at=clock())


def test_rows_for_a_channel_the_worker_cannot_deliver_wait(people: App, relay: FakeRelay) -> None:
    queue(people, 1, channels=("email", "slack"))
    tally = deliver(people, email_to(relay), "w1", Clock(T0))  # no Slack notifier here
    assert tally.delivered == 1
    assert {(r.channel, r.status) for r in rows(people)} == {
        ("email", "delivered"),
        ("slack", "pending"),
    }


def test_a_backlog_larger_than_a_batch_is_cleared_in_one_tick(
    people: App, relay: FakeRelay
) -> None:
    queue(people, 45)
    tally = drain(people, email_to(relay), "w1", Clock(T0), limit=20)
    assert (tally.delivered, tally.claimed) == (45, 45)
    assert len(relay.message_ids()) == 45 and set(relay.message_ids().values()) == {1}


class SlowNotifier:
    """A real SMTP notifier on a relay so slow that each send eats most of a claim."""

    def __init__(self, inner: Notifier, clock: Clock) -> None:
        self.inner, self.clock = inner, clock

    def send(self, message: OutgoingMessage) -> None:
        self.inner.send(message)
        self.clock.advance(minutes=4, seconds=30)


def test_a_row_whose_claim_is_about_to_run_out_is_handed_back_unsent(
    people: App, relay: FakeRelay
) -> None:
    queue(people, 3)
    clock = Clock(T0)
    slow = {"email": SlowNotifier(email_to(relay)["email"], clock)}
    tally = deliver(people, slow, "w1", clock)
    # The first send took 4.5 of the claim's 5 minutes: sending the others now could race a
    # worker that takes them over when the claim runs out, so they go back untried.
    assert (tally.delivered, tally.handed_back) == (1, 2)
    assert [(r.status, r.attempts, r.claimed_by) for r in rows(people)] == [
        ("delivered", 1, None),
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert deliver(people, email_to(relay), "w2", clock).delivered == 2
    assert len(relay.message_ids()) == 3 and set(relay.message_ids().values()) == {1}


def test_a_channel_that_is_down_does_not_starve_one_that_works(people: App) -> None:
    dead_port = FakeRelay()  # never started
    queue(people, 25, channels=("email", "slack"))  # 25 emails, 25 Slack posts
    with FakeSlack() as slack, httpx.Client(timeout=5.0) as client:
        notifiers = email_to(dead_port) | {"slack": SlackNotifier(slack.webhook_url, client)}
        tally = drain(people, notifiers, "w1", Clock(T0), limit=20)
    # Email: one attempt, the rest of its batch handed back, then left alone for this tick.
    # Slack: batch after batch until nothing is due.
    assert len(slack.posts) == 25
    assert (tally.delivered, tally.retrying, tally.handed_back, tally.down) == (
        25,
        1,
        19,
        {"email"},
    )
