"""`changegate worker`: deliver notifications and run periodic jobs; `changegate outbox`."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import Annotated

import typer

from changegate import bootstrap
from changegate.cli import runner, runtime, transport
from changegate.cli.formats import when
from changegate.cli.options import DEFAULT, Json, Limit, Offset, group, single
from changegate.cli.output import Column, emit_json, footer, say, table
from changegate.db.outbox import PENDING
from changegate.domain.errors import BadInput
from changegate.domain.notifications import NotificationStatus
from changegate.services import checkpoints, jobs, outbox, workspace_filing
from changegate.services.views import outbox as views

app = single("Deliver notifications and run the periodic jobs.")
outbox_app = group("The notification outbox: what was sent, what is waiting, what gave up.")
WORKER_ID_LIMIT = 100  # notifications.claimed_by and leases.holder


@app.command("worker")
def worker(
    interval: Annotated[
        float, typer.Option(metavar="SECONDS", help="Seconds between ticks.", min=0.1)
    ] = 30.0,
    once: Annotated[
        bool, typer.Option("--once", help="Run one tick and exit (cron); exit 1 if a job failed.")
    ] = False,
    worker_id: Annotated[
        str | None,
        typer.Option(
            help="Name on claims and leases (default host:pid); unique per running worker."
        ),
    ] = None,
) -> None:
    """Deliver queued notifications (email, Slack) and run the periodic jobs, every --interval
    seconds until SIGTERM or Ctrl-C."""
    transport.local_only("worker")
    name = _worker_name(worker_id)
    stop = threading.Event()
    with runtime.app() as cg, ExitStack() as closing, _logging(), _stop_on_signals(stop):
        notifiers = bootstrap.notifiers(cg.settings, closing, cg)
        registry = jobs.registered_jobs() + _checkpoint_jobs(cg) + _drive_jobs(cg)
        names = ", ".join([*(job.name for job in registry), "outbox"])
        channels = ", ".join(notifiers) or "none: queued email and Slack rows wait"
        runner.log.info("worker %s: jobs %s; channels %s", name, names, channels)
        ok = True
        while not stop.is_set():
            ok = runner.tick(cg, notifiers, registry, name, cg.now)
            if once or stop.wait(interval):
                break
        runner.log.info("worker %s stopped", name)
    if once and not ok:
        raise typer.Exit(1)


def _checkpoint_jobs(cg: bootstrap.App) -> list[jobs.Job]:
    """With CHANGEGATE_CHECKPOINT_BUCKET: anchor signed checkpoints there (the settings
    require the signing key). A missing bucket, or one without Object Lock, stops start-up."""
    config = cg.settings.checkpoints
    if config is None or cg.signer is None:
        return []
    store = bootstrap.checkpoint_store(config.bucket, config.prefix)
    store.check()
    return [checkpoints.job(store, cg.signer, config.retention, config.every)]


def _drive_jobs(cg: bootstrap.App) -> list[jobs.Job]:
    """With CHANGEGATE_GOOGLE_CREDENTIALS: file queued test runs in the shared drive."""
    drive = bootstrap.drive(cg.settings, cg.policy)
    return [] if drive is None else [workspace_filing.job(drive)]


def _worker_name(given: str | None) -> str:
    name = (given or f"{socket.gethostname()}:{os.getpid()}").strip()
    if not name or len(name) > WORKER_ID_LIMIT:
        raise BadInput(f"--worker-id: give 1 to {WORKER_ID_LIMIT} characters")
    return name


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT end the loop after the current tick, so a claimed batch is settled
    rather than left to wait for its claims to run out."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be installed from the main thread
        return

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        runner.log.info("%s: stopping after this tick", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _logging() -> Iterator[None]:
    """One line per event on stderr, timestamped, for journald or a container log."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level, propagate = runner.log.level, runner.log.propagate
    runner.log.addHandler(handler)
    runner.log.setLevel(logging.INFO)
    runner.log.propagate = False
    try:
        yield
    finally:
        runner.log.removeHandler(handler)
        runner.log.setLevel(level)
        runner.log.propagate = propagate


@outbox_app.command("list")
def list_(
    status: Annotated[
        NotificationStatus | None,
        typer.Option(case_sensitive=False, help="Only rows in this state."),
    ] = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    json_out: Json = False,
) -> None:
    """Notifications, newest first."""
    transport.local_only("outbox list")
    with runtime.app() as cg:
        page = cg.read(lambda ctx: views.page(ctx, status, limit, offset))
    if json_out:
        emit_json(page)
        return
    table(
        f"Outbox ({page.total})",
        [
            "id",
            "status",
            "channel",
            "recipient",
            "event",
            "attempts",
            "next attempt",
            "delivered",
            Column("last error", wrap=True),
        ],
        [
            [
                r.id,
                r.status,
                r.channel,
                r.recipient,
                r.event_key,
                r.attempts,
                when(r.next_attempt_at) if r.status == PENDING else None,
                when(r.delivered_at),
                r.last_error,
            ]
            for r in page.items
        ],
        empty="the outbox is empty",
    )
    footer(len(page.items), page.total, offset)


@outbox_app.command("retry")
def retry(
    notification_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)],
) -> None:
    """Send a dead (or waiting) notification again at the next tick, with fresh attempts."""
    transport.local_only("outbox retry")
    with runtime.app() as cg:
        row = cg.run(
            lambda ctx: views.row(outbox.retry(ctx, notification_id)), actor=runtime.LOCAL_ADMIN
        )
    say(
        f"notification {row.id} ({row.channel} to {row.recipient}) will be sent again at the "
        "worker's next tick"
    )
