"""`changegate demo`: a seeded quarter of Casper Studios' changes to explore."""

from __future__ import annotations

import dataclasses
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from changegate import bootstrap
from changegate.bootstrap import App, safe_url
from changegate.cli import runtime
from changegate.cli.output import say
from changegate.cli.serve import Host, Port, run_server
from changegate.config import Settings
from changegate.db import schema
from changegate.db.models import Base
from changegate.domain.changes import ChangeStatus
from changegate.domain.errors import BadInput
from changegate.services import changes, tokens
from changegate.services import demo as service

DEMO_FILE = "changegate-demo.db"
QUARTER_START = date(2026, 7, 1)

SEED_ONLY_HELP = "Seed the database and exit, without serving the API."
RESET_HELP = (
    "With CHANGEGATE_DATABASE_URL set: drop every changegate table in that database "
    "and seed it afresh, even if it holds data."
)


def register(root: typer.Typer) -> None:
    root.command(
        "demo",
        help="Seed a realistic quarter (2026-Q3) of Casper Studios' changes: "
        "people, approvals, emergencies, PIRs. Without CHANGEGATE_DATABASE_URL it "
        f"writes {DEMO_FILE} in this directory, recreated on every run.",
    )(demo)


def demo(
    seed_only: Annotated[bool, typer.Option("--seed-only", help=SEED_ONLY_HELP)] = False,
    reset: Annotated[bool, typer.Option("--reset", help=RESET_HELP)] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    configured = os.environ.get("CHANGEGATE_DATABASE_URL")
    settings = Settings.from_env()
    if not configured:
        settings = dataclasses.replace(settings, database_url=f"sqlite:///{_fresh_file()}")
    app = _prepare(settings, reset) if configured else bootstrap.init(settings)
    try:
        summary = service.seed(app, QUARTER_START)
        _print(summary, safe_url(app.engine), dedicated=not configured)
        if not seed_only:
            _print_tokens(app, summary, host, port)
            run_server(app, host, port)
    finally:
        app.engine.dispose()


def _print_tokens(app: App, summary: service.DemoSummary, host: str, port: int) -> None:
    """Tokens for trying the API at once: the pipeline, a requester and the auditor."""
    wanted = [
        next(p for p in summary.people if role in p.roles)
        for role in ("pipeline", "requester", "auditor")
    ]
    made = app.run(
        lambda ctx: [(p, tokens.create_token(ctx, p.email, "demo", 1)[1]) for p in wanted],
        actor=runtime.LOCAL_ADMIN,
    )
    say("\nAPI tokens for the demo (valid one day):")
    for person, secret in made:
        say(f"  {', '.join(person.roles):<10} {person.email:<42} {secret}")
    approved = app.read(lambda ctx: [c.key for c in changes.list_(ctx, ChangeStatus.APPROVED)])
    key = approved[0] if approved else "CHG-1"
    base = f"http://{host}:{port}/api/v1"
    say(f"\nTry: curl -s -H 'Authorization: Bearer {made[2][1]}' {base}/changes/overdue")
    say(
        f"     CHANGEGATE_URL=http://{host}:{port} CHANGEGATE_TOKEN={made[0][1]} "
        f"changegate gate check --change {key} --env production --commit 0123abcd"
    )


def _fresh_file() -> Path:
    """The demo's own file: nobody else's data lives there, so it is safe to start over."""
    path = Path.cwd() / DEMO_FILE
    for stale in (path, path.with_name(f"{DEMO_FILE}-wal"), path.with_name(f"{DEMO_FILE}-shm")):
        stale.unlink(missing_ok=True)
    return path


def _prepare(settings: Settings, reset: bool) -> App:
    """A configured database may hold real records: seed it only if empty, or if told to reset."""
    app = bootstrap.build(settings, require_schema=False)
    try:
        if reset:
            _drop_everything(app)
        else:
            _refuse_unless_empty(app)
    finally:
        app.engine.dispose()
    return bootstrap.init(settings)


def _refuse_unless_empty(app: App) -> None:
    advice = (
        f"pass --reset to drop everything in it and seed afresh, or unset "
        f"CHANGEGATE_DATABASE_URL to use {DEMO_FILE}"
    )
    try:
        current = schema.is_current(app.engine)
        ours = set(inspect(app.engine).get_table_names()) & set(Base.metadata.tables)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise BadInput(f"cannot reach the database {safe_url(app.engine)}: {reason}") from None
    if not current and ours:
        raise BadInput(f"{safe_url(app.engine)} has an out-of-date changegate schema; {advice}")
    if current:
        people, count = app.run(service.population)
        if people or count:
            raise BadInput(
                f"{safe_url(app.engine)} already has {people} user(s) and {count} "
                f"change(s); the demo seeds only an empty database ({advice})"
            )


def _drop_everything(app: App) -> None:
    schema.drop_all(app.engine)


def _print(summary: service.DemoSummary, where: str, dedicated: bool) -> None:
    counts = ", ".join(
        f"{n} {status}" for status, n in sorted(summary.statuses.items(), key=lambda item: -item[1])
    )
    say(f"Seeded {summary.organisation}, {summary.first_day} to {summary.last_day}, into {where}")
    say(f"{sum(summary.statuses.values())} changes: {counts}")
    say(
        f"{summary.transactions} transactions, each at its own simulated time; every ledger "
        "record is marked as made under a simulated clock.\n"
    )
    say("People (use their emails with --as):")
    for p in summary.people:
        say(f"  {', '.join(p.roles):<18} {p.name} <{p.email}>, {p.title}")
    say("\nWorth a look:")
    for key, why in summary.highlights:
        say(f"  {key:<7} {why}")
    audit = summary.audit
    waived = (
        f", {audit.suppressed} suppressed by {', '.join(audit.waivers)}" if audit.waivers else ""
    )
    say(
        f"\nThe ISO's audit of {audit.period} at the quarter's end: {audit.findings} "
        f"finding(s){waived}"
    )
    say("\nWhat to try next:")
    for line in _next_steps(summary, dedicated):
        say(f"  {line}")


def _next_steps(summary: service.DemoSummary, dedicated: bool) -> list[str]:
    def who(role: str) -> str:
        return next(p.email for p in summary.people if role in p.roles)

    revised = summary.highlights[0][0]
    key, me = summary.next_key, who("requester")
    lines = (
        [f"export CHANGEGATE_DATABASE_URL=sqlite:///{DEMO_FILE}   # from this directory"]
        if dedicated
        else []
    )
    return [
        *lines,
        "changegate change list",
        f"changegate change show {revised}",
        "changegate change overdue",
        "changegate ledger verify",
        f'changegate change create --as {me} --title "Enable HTTP/3 on the api-gateway edge" '
        '--scope "Turn on QUIC listeners" --impact "Clients fall back to HTTP/2 on failure" '
        '--rollback "Disable the QUIC listeners" --ticket ENG-2401 --service api-gateway '
        f"--env staging --env production   # prints {key}",
        f"changegate change submit {key} --as {me}",
        f"changegate change approve {key} --as {who('cab')} --role cab",
        f"changegate change approve {key} --as {who('iso')} --role iso",
        f"changegate change show {key}",
        f"changegate finding list --as {who('iso')}",
        "changegate waiver list",
        f"changegate audit run --period {summary.audit.period} --dry-run --as {who('auditor')}",
    ]
