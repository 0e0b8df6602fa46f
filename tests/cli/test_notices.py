"""Notifications to people, delivered by `changegate worker --once` to a real SMTP server
(aiosmtpd): a submitted change asks the CAB and the ISO to decide, with a link to its page;
an emergency's deadlines are reminded one business day before, once, across worker runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.config import Settings
from changegate.domain.changes import ChangeType
from changegate.services import changes, lifecycle
from tests.builders import add_people, make_fields
from tests.conftest import Result
from tests.integrations.fake_notify import FakeRelay

Cli = Callable[..., Result]
URL = "https://changegate.example.com"
ALICE = "alice@example.com"
APPROVERS = {"bob", "carol", "cody", "ivy", "max"}  # CAB and ISO; Max holds both, heard once


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    with FakeRelay() as fake:
        yield fake


@pytest.fixture
def mailing(cli: Cli, relay: FakeRelay, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The app as a deployment with email and a public URL configured (after `cli`, which
    points the environment at the test database)."""
    for name, value in {
        "CHANGEGATE_SMTP_HOST": "127.0.0.1",
        "CHANGEGATE_SMTP_PORT": str(relay.port),
        "CHANGEGATE_SMTP_FROM": "changegate@casper.example",
        "CHANGEGATE_PUBLIC_URL": URL,
        "CHANGEGATE_ALLOW_CLOCK_OVERRIDE": "true",
    }.items():
        monkeypatch.setenv(name, value)
    app = bootstrap.build(Settings.from_env())
    add_people(app)
    yield app
    app.engine.dispose()


def work(cli: Cli, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setenv("CHANGEGATE_CLOCK", at.isoformat())
    done = cli("worker", "--once", "--worker-id", "w1")
    assert done.code == 0, done.err


def mail(relay: FakeRelay, prefix: str) -> list[tuple[str, str, str]]:
    """(recipient's name, subject, body) of the messages whose subject starts with `prefix`."""
    return sorted(
        (r.rcpt_tos[0].split("@")[0], str(r.message["Subject"]).strip(), r.message.get_content())
        for r in relay.received
        if str(r.message["Subject"]).strip().startswith(prefix)
    )


def test_a_submitted_change_asks_the_cab_and_the_iso_with_a_link(
    mailing: App, cli: Cli, relay: FakeRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = datetime(2026, 11, 3, 9, tzinfo=UTC)
    fields = make_fields(title="Upgrade orders-db", commit_authors=("cody@example.com",))
    key = mailing.run(lambda ctx: changes.create(ctx, fields).key, actor=ALICE, at=at)
    mailing.run(lambda ctx: changes.submit(ctx, key), actor=ALICE, at=at)
    work(cli, monkeypatch, at)
    asked = mail(relay, f"{key} v1 awaits")
    # Not the requester, nor Cody, who wrote its commits: neither may approve it.
    assert {who for who, _, _ in asked} == APPROVERS - {"cody"}
    assert all(f"{URL}/changes/{key}" in body for _, _, body in asked)
    assert asked[0][1] == f"{key} v1 awaits your approval: Upgrade orders-db"
    # A material edit is a new version to decide on: asked again, for v2; v1 not re-sent.
    mailing.run(lambda ctx: changes.edit(ctx, key, {"scope": "primary only"}), actor=ALICE, at=at)
    work(cli, monkeypatch, at)
    assert len(mail(relay, f"{key} v1 awaits")) == len(asked)
    assert {who for who, _, _ in mail(relay, f"{key} v2 awaits")} == APPROVERS - {"cody"}


def test_emergency_deadlines_are_reminded_a_business_day_before_and_once(
    mailing: App, cli: Cli, relay: FakeRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Implemented the day before Thanksgiving: both deadlines end Thursday 3 December.
    at = datetime(2026, 11, 25, 15, tzinfo=UTC)
    fields = make_fields(
        change_type=ChangeType.EMERGENCY, title="Disable promo flag", environments=()
    )
    key = mailing.run(lambda ctx: changes.create(ctx, fields).key, actor=ALICE, at=at)
    mailing.run(lambda ctx: changes.submit(ctx, key), actor=ALICE, at=at)
    done = mailing.run(lambda ctx: lifecycle.implement(ctx, key), actor=ALICE, at=at)
    assert done.pir_due_at == datetime(2026, 12, 4, tzinfo=UTC)

    work(cli, monkeypatch, datetime(2026, 12, 1, 23, 59, tzinfo=UTC))  # Tuesday: too early
    assert mail(relay, "Reminder:") == []

    work(cli, monkeypatch, datetime(2026, 12, 2, 0, 5, tzinfo=UTC))  # Wednesday
    reminded = mail(relay, "Reminder:")
    due = "due by end of Thu 2026-12-03 (UTC)"
    retro = f"Reminder: {key} retroactive approval {due}"
    pir = f"Reminder: {key} PIR {due}"
    assert {(who, subject) for who, subject, _ in reminded} == {
        *((who, retro) for who in APPROVERS),
        ("alice", pir),
    }
    assert all(f"{URL}/changes/{key}" in body for _, _, body in reminded)

    for later in (datetime(2026, 12, 2, 16, tzinfo=UTC), datetime(2026, 12, 3, 9, tzinfo=UTC)):
        work(cli, monkeypatch, later)
        assert mail(relay, "Reminder:") == reminded  # once, however often the worker runs
