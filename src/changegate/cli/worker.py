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
from enum import StrEnum
from types import FrameType
from typing import Annotated, Any

import typer

from changegate import bootstrap
from changegate.cli import runner, runtime
from changegate.cli.output import emit_json, say, table
from changegate.db.models import Notification
from changegate.db.outbox import DEAD, DELIVERED, PENDING
from changegate.domain.errors import BadInput
from changegate.services import jobs, outbox

outbox_app = typer.Typer(
    help="The notification outbox: what was sent, what is waiting, what gave up.",
    no_args_is_help=True,
)
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
WORKER_ID_LIMIT = 100  # notifications.claimed_by and leases.holder


class Status(StrEnum):
    PENDING = PENDING
    DELIVERED = DELIVERED
    DEAD = DEAD


def register(root: typer.Typer) -> None:
    root.command(
        "worker",
        help="Deliver queued notifications (email, Slack) and run the "
        "periodic jobs, every --interval seconds until SIGTERM or Ctrl-C.",
    )(worker)
    root.add_typer(outbox_app, name="outbox")


def worker(
    interval: Annotated[float, typer.Option(help="Seconds between ticks.", min=0.1)] = 30.0,
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
    name = _worker_name(worker_id)
    stop = threading.Event()
    with runtime.app() as cg, ExitStack() as closing, _logging(), _stop_on_signals(stop):
        notifiers = bootstrap.notifiers(cg.settings, closing)
        registry = jobs.registered_jobs()
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


def as_json(row: Notification) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": row.id,
        "status": row.status,
        "channel": row.channel,
        "recipient": row.recipient,
        "role": row.recipient_role,
        "event_key": row.event_key,
        "subject": row.subject,
        "attempts": row.attempts,
        "created_at": stamp(row.created_at),
        "next_attempt_at": stamp(row.next_attempt_at),
        "delivered_at": stamp(row.delivered_at),
        "claimed_by": row.claimed_by,
        "claimed_until": stamp(row.claimed_until),
        "last_error": row.last_error,
    }


@outbox_app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only rows in this state.")] = None,
    json_out: Json = False,
) -> None:
    """Notifications, newest first (the latest 500)."""
    with runtime.app() as cg:
        rows = cg.read(
            lambda ctx: [as_json(r) for r in outbox.listing(ctx, status.value if status else None)]
        )
    if json_out:
        emit_json(rows)
        return
    table(
        "Outbox",
        [
            "id",
            "status",
            "channel",
            "recipient",
            "event",
            "attempts",
            "next attempt",
            "delivered",
            "last error",
        ],
        [
            [
                r["id"],
                r["status"],
                r["channel"],
                r["recipient"],
                r["event_key"],
                r["attempts"],
                r["next_attempt_at"] if r["status"] == PENDING else "",
                r["delivered_at"],
                r["last_error"],
            ]
            for r in rows
        ],
    )


@outbox_app.command("retry")
def retry(notification_id: int) -> None:
    """Send a dead (or waiting) notification again at the next tick, with fresh attempts."""
    with runtime.app() as cg:
        row = cg.run(
            lambda ctx: as_json(outbox.retry(ctx, notification_id)), actor=runtime.LOCAL_ADMIN
        )
    say(
        f"notification {row['id']} ({row['channel']} to {row['recipient']}) will be sent "
        "again at the worker's next tick"
    )
