"""`changegate worker` and `changegate outbox`: settings, a tick against a real SMTP server,
job leases, one-line failures, and stopping on a signal."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.cli import runner
from changegate.config import Settings
from changegate.db.models import Lease
from changegate.domain.users import Role
from changegate.services import jobs, notifications, outbox
from changegate.services.context import Context
from changegate.services.jobs import Job
from tests.builders import T0, add_people
from tests.conftest import Result
from tests.integrations.fake_notify import FakeRelay

Cli = Callable[..., Result]
SMTP_VARS = (
    "CHANGEGATE_SMTP_HOST",
    "CHANGEGATE_SMTP_PORT",
    "CHANGEGATE_SMTP_FROM",
    "CHANGEGATE_SMTP_USERNAME",
    "CHANGEGATE_SMTP_PASSWORD",
    "CHANGEGATE_SMTP_STARTTLS",
    "CHANGEGATE_SLACK_WEBHOOK_URL",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SMTP_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    with FakeRelay() as fake:
        yield fake


def queue_for_iso(app: App, count: int, at: datetime = T0) -> None:
    app.channels = ("email",)

    def work(ctx: Context) -> None:
        for i in range(1, count + 1):
            notifications.enqueue(ctx, f"test.event:{i}", f"event {i}", "body", [Role.ISO])

    app.run(work, at=at)


def test_worker_once_delivers_queued_mail(
    cli: Cli, app: App, env: pytest.MonkeyPatch, relay: FakeRelay
) -> None:
    add_people(app)
    queue_for_iso(app, 2)  # ISO: ivy and max, so four emails
    env.setenv("CHANGEGATE_SMTP_HOST", "127.0.0.1")
    env.setenv("CHANGEGATE_SMTP_PORT", str(relay.port))
    env.setenv("CHANGEGATE_SMTP_FROM", "changegate@casper.example")

    first = cli("worker", "--once", "--worker-id", "ci-worker")
    assert first.code == 0, first.err
    ours = sorted(
        (r.rcpt_tos[0], str(r.message["Subject"]))
        for r in relay.received
        if str(r.message["Subject"]).startswith("event ")
    )
    assert ours == [
        ("ivy@example.com", "event 1"),
        ("ivy@example.com", "event 2"),
        ("max@example.com", "event 1"),
        ("max@example.com", "event 2"),
    ]
    assert (
        "worker ci-worker: jobs waiver-expiry, audit, reminders, outbox; channels email"
        in first.err
    )
    # The audit job ran first in the tick (on today's clock it finds these people's records
    # wanting) and what it queued went out in the same tick, with ours.
    sent = len(relay.received)
    assert f"outbox: {sent} delivered, 0 to retry, 0 dead, 0 handed back" in first.err

    second = cli("worker", "--once", "--worker-id", "ci-worker")
    assert second.code == 0 and len(relay.received) == sent  # nothing is sent twice
    assert set(relay.message_ids().values()) == {1}
    listed = json.loads(cli("outbox", "list", "--json").out)["items"]
    assert {(r["status"], r["attempts"], r["claimed_by"]) for r in listed} == {
        ("delivered", 1, None)
    }


def test_dead_letter_is_listed_and_retried_from_the_cli(
    cli: Cli, app: App, env: pytest.MonkeyPatch, relay: FakeRelay
) -> None:
    add_people(app)
    queue_for_iso(app, 1)
    at = T0
    for _ in range(outbox.MAX_ATTEMPTS):  # a relay that kept refusing, long ago
        claims = app.run(lambda ctx: outbox.claim(ctx, "w0", ["email"]), at=at)
        for claim in claims:
            app.run(lambda ctx, c=claim: outbox.failed(ctx, c, "w0", "SMTP 451 try later"), at=at)
        at += timedelta(hours=1)

    dead = json.loads(cli("outbox", "list", "--status", "dead", "--json").out)["items"][::-1]
    assert [(r["recipient"], r["attempts"], r["last_error"]) for r in dead] == [
        ("ivy@example.com", 12, "SMTP 451 try later"),
        ("max@example.com", 12, "SMTP 451 try later"),
    ]
    table = cli("outbox", "list", "--status", "dead")
    assert table.code == 0 and "SMTP 451 try later" in table.out
    assert cli("outbox", "list", "--status", "sent").code == 2

    retried = cli("outbox", "retry", str(dead[0]["id"]))
    assert retried.code == 0, retried.err
    assert "will be sent again" in retried.out
    missing = cli("outbox", "retry", "999")
    assert (missing.code, missing.err) == (2, "error: no notification 999\n")

    env.setenv("CHANGEGATE_SMTP_HOST", "127.0.0.1")
    env.setenv("CHANGEGATE_SMTP_PORT", str(relay.port))
    env.setenv("CHANGEGATE_SMTP_FROM", "changegate@casper.example")
    assert cli("worker", "--once").code == 0
    assert [r.rcpt_tos for r in relay.received if r.message["Subject"] == "event 1"] == [
        (dead[0]["recipient"],)
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {
                "CHANGEGATE_SMTP_HOST": "mail",
                "CHANGEGATE_SMTP_FROM": "cg@x.example",
                "CHANGEGATE_SMTP_PORT": "smtp",
            },
            "CHANGEGATE_SMTP_PORT: not a TCP port: 'smtp'",
        ),
        (
            {
                "CHANGEGATE_SMTP_HOST": "mail",
                "CHANGEGATE_SMTP_FROM": "cg@x.example",
                "CHANGEGATE_SMTP_PORT": "70000",
            },
            "CHANGEGATE_SMTP_PORT: not a TCP port: '70000'",
        ),
        (
            {"CHANGEGATE_SMTP_HOST": "mail"},
            "CHANGEGATE_SMTP_FROM is required when CHANGEGATE_SMTP_HOST is set",
        ),
        (
            {"CHANGEGATE_SMTP_HOST": "mail", "CHANGEGATE_SMTP_FROM": "changegate"},
            "CHANGEGATE_SMTP_FROM: not an email address: 'changegate'",
        ),
        (
            {"CHANGEGATE_SMTP_FROM": "cg@x.example"},
            "CHANGEGATE_SMTP_FROM is set but CHANGEGATE_SMTP_HOST is not",
        ),
        (
            {
                "CHANGEGATE_SMTP_HOST": "mail",
                "CHANGEGATE_SMTP_FROM": "cg@x.example",
                "CHANGEGATE_SMTP_STARTTLS": "maybe",
            },
            "CHANGEGATE_SMTP_STARTTLS: expected true or false, got 'maybe'",
        ),
        (
            {
                "CHANGEGATE_SMTP_HOST": "mail",
                "CHANGEGATE_SMTP_FROM": "cg@x.example",
                "CHANGEGATE_SMTP_USERNAME": "cg",
            },
            "CHANGEGATE_SMTP_USERNAME and CHANGEGATE_SMTP_PASSWORD go together: "
            "set both or neither",
        ),
        (
            {
                "CHANGEGATE_SMTP_HOST": "mail.example",
                "CHANGEGATE_SMTP_FROM": "cg@x.example",
                "CHANGEGATE_SMTP_USERNAME": "cg",
                "CHANGEGATE_SMTP_PASSWORD": "pw",
            },
            "CHANGEGATE_SMTP_PASSWORD needs CHANGEGATE_SMTP_STARTTLS=true "
            "(the relay mail.example is not on this host)",
        ),
        (
            {"CHANGEGATE_SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/secret"},
            "CHANGEGATE_SLACK_WEBHOOK_URL: expected an https:// URL",
        ),
        (
            {"CHANGEGATE_SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/T/B/secret"},
            "CHANGEGATE_SLACK_WEBHOOK_URL: use https:// "
            "(http only for loopback, not hooks.slack.com)",
        ),
    ],
)
def test_a_bad_setting_exits_2_with_one_line(
    cli: Cli, env: pytest.MonkeyPatch, given: dict[str, str], message: str
) -> None:
    for name, value in given.items():
        env.setenv(name, value)
    result = cli("worker", "--once")
    assert (result.code, result.err) == (2, f"error: {message}\n")
    assert "secret" not in result.err


def test_worker_id_must_fit_the_claim_column(cli: Cli, env: pytest.MonkeyPatch) -> None:
    result = cli("worker", "--once", "--worker-id", "w" * 101)
    assert (result.code, result.err) == (2, "error: --worker-id: give 1 to 100 characters\n")


def test_settings_decide_the_channels(env: pytest.MonkeyPatch) -> None:
    assert bootstrap.channels(Settings.from_env({})) == ()
    both = Settings.from_env(
        {
            "CHANGEGATE_SMTP_HOST": "localhost",
            "CHANGEGATE_SMTP_FROM": "cg@x.example",
            "CHANGEGATE_SMTP_USERNAME": "cg",
            "CHANGEGATE_SMTP_PASSWORD": "pw",
            "CHANGEGATE_SMTP_STARTTLS": "yes",
            "CHANGEGATE_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/secret",
        }
    )
    assert bootstrap.channels(both) == ("email", "slack")
    assert both.smtp is not None and (both.smtp.port, both.smtp.starttls) == (25, True)
    assert "secret" not in repr(both) and "'pw'" not in repr(both)


# -- periodic jobs and their leases -------------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.runs: list[datetime] = []
        self.fail = fail

    def __call__(self, ctx: Context) -> int:
        self.runs.append(ctx.now)
        if self.fail:
            raise RuntimeError("disk full\nsecond line")
        return 1


def lease(app: App, name: str) -> tuple[str | None, datetime | None, datetime | None]:
    return app.read(
        lambda ctx: (
            ctx.session.execute(
                select(Lease.holder, Lease.expires_at, Lease.last_run_at).where(Lease.name == name)
            )
            .one()
            ._tuple()
        )
    )


def test_a_lease_held_by_a_dead_worker_blocks_the_job_until_it_expires(app: App) -> None:
    assert app.run(
        lambda ctx: jobs.take_lease(ctx, "waiver-expiry", "dead", timedelta(minutes=15)), at=T0
    )
    job = Job("waiver-expiry", Recorder())
    assert not runner.run_leased(app, job, "w2", lambda: T0 + timedelta(minutes=14))
    assert runner.run_leased(app, job, "w2", lambda: T0 + timedelta(minutes=15))
    assert job.run.runs == [T0 + timedelta(minutes=15)]  # type: ignore[attr-defined]
    assert lease(app, "waiver-expiry") == (None, None, T0 + timedelta(minutes=15))
    # The dead worker comes back and tries to give it back: not its lease any more.
    assert not app.run(lambda ctx: jobs.give_back(ctx, "waiver-expiry", "dead", True))


def test_every_spaces_runs_across_workers_and_a_new_job_gets_its_lease_row(app: App) -> None:
    job = Job("nightly-report", Recorder(), every=timedelta(hours=1))
    assert runner.run_leased(app, job, "w1", lambda: T0)
    assert not runner.run_leased(app, job, "w2", lambda: T0 + timedelta(minutes=59))
    assert runner.run_leased(app, job, "w2", lambda: T0 + timedelta(hours=1))
    assert len(job.run.runs) == 2  # type: ignore[attr-defined]


def test_two_workers_racing_for_a_job_run_it_once(app: App, db_url: str) -> None:
    other = bootstrap.build(Settings(database_url=db_url))
    job = Job("audit", Recorder(), every=timedelta(hours=1))
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def race(a: App, name: str) -> None:
        barrier.wait()
        results[name] = runner.run_leased(a, job, name, lambda: T0)

    threads = [threading.Thread(target=race, args=pair) for pair in ((app, "w1"), (other, "w2"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        other.engine.dispose()
    assert sorted(results.values()) == [False, True]
    assert len(job.run.runs) == 1  # type: ignore[attr-defined]


def test_a_failing_job_is_one_log_line_and_the_others_still_run(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    broken, fine = Job("waiver-expiry", Recorder(fail=True)), Job("audit", Recorder())
    with caplog.at_level(logging.INFO, logger="changegate.worker"):
        ok = runner.tick(app, {}, [broken, fine], "w1", lambda: T0)
    assert not ok
    assert len(fine.run.runs) == 1  # type: ignore[attr-defined]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["job waiver-expiry failed: RuntimeError: disk full second line"]
    # Given back without a completed run, so the next tick tries again at once.
    assert lease(app, "waiver-expiry") == (None, None, None)


def test_the_registry_names_the_seeded_leases() -> None:
    assert [job.name for job in jobs.registered_jobs()] == ["waiver-expiry", "audit", "reminders"]


# -- stopping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_worker_cleanly_after_the_tick(
    db_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    exe = shutil.which("changegate", path=str(Path(sys.executable).parent))
    assert exe
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEGATE_")}
    process = subprocess.Popen(
        [exe, "worker", "--interval", "0.2", "--worker-id", "sig-test"],
        cwd=tmp_path,
        env=clean | {"CHANGEGATE_DATABASE_URL": db_url},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        started = process.stderr.readline()
        assert "worker sig-test: jobs waiver-expiry, audit, reminders, outbox" in started, started
        time.sleep(0.5)  # a few ticks
        process.send_signal(sig)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert f"{sig.name}: stopping after this tick" in rest
    assert rest.rstrip().endswith("worker sig-test stopped")
    assert "Traceback" not in rest
