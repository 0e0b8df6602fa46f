"""`changegate demo`: a seeded quarter of Casper Studios' changes to explore, served."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Annotated, TextIO

import typer
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from changegate import bootstrap
from changegate.bootstrap import App, safe_url
from changegate.cli import runtime
from changegate.cli.formats import plural
from changegate.cli.options import single
from changegate.cli.output import say
from changegate.cli.serve import Host, Port, listen, run_server
from changegate.config import Settings
from changegate.db import schema
from changegate.db.models import everything
from changegate.domain.errors import BadInput
from changegate.policy import CloudTrailSettings, Policy
from changegate.services import demo as service
from changegate.services import demo_trail, tokens
from changegate.services.views.users import new_token

DEMO_FILE = "changegate-demo.db"
DEMO_POLICY = "changegate-demo-policy.yaml"
DEMO_POLICY_TEXT = f"""\
# Written by `changegate demo`: the demo's policy, over the built-in one. Never on a real
# server: decisions through --as are allowed (each marked unauthenticated in the ledger, and
# reported by AUTH-1), and the web app signs people in by picking one from a list.
identity:
  local_decisions: allow
  demo_sign_in: true
# The demo organisation's AWS accounts and its deploy pipeline's role (docs/cloudtrail.md).
cloudtrail: {json.dumps(demo_trail.CLOUDTRAIL)}
"""
QUARTER_START = date(2026, 7, 1)
app = single("Seed a realistic quarter of changes and serve it.")

SEED_ONLY_HELP = "Seed the database and exit, without serving the API."
RESET_HELP = (
    "With CHANGEGATE_DATABASE_URL set: drop every changegate table in that database "
    "and seed it afresh, even if it holds data."
)


@app.command("demo")
def demo(
    seed_only: Annotated[bool, typer.Option("--seed-only", help=SEED_ONLY_HELP)] = False,
    reset: Annotated[bool, typer.Option("--reset", help=RESET_HELP)] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Seed a realistic quarter (2026-Q3) of Casper Studios' changes: people, approvals,
    emergencies, PIRs, a waiver and the quarter's audit; then serve the API. Without
    CHANGEGATE_DATABASE_URL it writes changegate-demo.db here, recreated on every run."""
    configured = os.environ.get("CHANGEGATE_DATABASE_URL")
    # The port first: a port in use is said before any database is touched.
    sock = None if seed_only else listen(host, port)
    with sock or nullcontext(), nullcontext() if configured else _only_demo_here():
        settings = Settings.from_env()
        own_policy = settings.policy_path is not None
        if not own_policy:
            settings = dataclasses.replace(settings, policy_path=_write_policy())
        if not configured:
            settings = dataclasses.replace(settings, database_url=f"sqlite:///{_fresh_file()}")
        cg = _prepare(settings, reset) if configured else _demo(bootstrap.init(settings))
        try:
            summary = service.seed(cg, QUARTER_START)
            _print(summary, safe_url(cg.engine), not configured, own_policy)
            if sock is not None:
                _print_api(cg, summary, host, port)
                run_server(cg, sock, host, port)
        finally:
            cg.engine.dispose()


def _write_policy() -> Path:
    """The demo's policy file, here, so another terminal can act under it too."""
    path = Path(DEMO_POLICY)
    path.write_text(DEMO_POLICY_TEXT, encoding="utf-8")
    return path


def _demo(cg: App) -> App:
    """The app under the demo's policy, before it writes anything (so the demo's policy is
    the one the ledger records in force)."""
    cg.policy = demo_policy(cg.policy)
    return cg


def demo_policy(policy: Policy) -> Policy:
    """The demo's policy: its seeded history was made in-process (allowed, and each decision
    marked unauthenticated in the ledger), and its web app signs people in by picking one
    from a list, with no identity provider. Neither belongs on a real server."""
    identity = policy.identity.model_copy(update={"local_decisions": "allow", "demo_sign_in": True})
    trail = CloudTrailSettings.model_validate(demo_trail.CLOUDTRAIL)
    return policy.model_copy(update={"identity": identity, "cloudtrail": trail})


@contextmanager
def _only_demo_here() -> Iterator[TextIO]:
    """One demo per directory: re-seeding deletes the file a running demo server is serving."""
    lock = Path.cwd() / f"{DEMO_FILE}.lock"
    handle = lock.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BadInput(
            f"a demo is already running from {Path.cwd()} (it holds {lock.name}); "
            "stop it first, or run the new one from another directory"
        ) from None
    try:
        yield handle
    finally:
        handle.close()


def _fresh_file() -> Path:
    """The demo's own file: nobody else's data lives there, so it is safe to start over."""
    path = Path.cwd() / DEMO_FILE
    if path.exists():
        # Work done in the last demo goes with it: say so, so nobody is surprised later.
        say(f"replacing {path.name} from the last demo run (the demo starts afresh each time)")
    for stale in (path, path.with_name(f"{DEMO_FILE}-wal"), path.with_name(f"{DEMO_FILE}-shm")):
        stale.unlink(missing_ok=True)
    return path


def _prepare(settings: Settings, reset: bool) -> App:
    """A configured database may hold real records: seed it only if empty, or if told to reset."""
    cg = _demo(bootstrap.build(settings, require_schema=False))
    try:
        if reset:
            schema.drop_all(cg.engine)
        else:
            _refuse_unless_empty(cg)
    finally:
        cg.engine.dispose()
    return _demo(bootstrap.init(settings))


def _refuse_unless_empty(cg: App) -> None:
    advice = (
        f"pass --reset to drop everything in it and seed afresh, or unset "
        f"CHANGEGATE_DATABASE_URL to use {DEMO_FILE}"
    )
    try:
        current = schema.is_current(cg.engine)
        ours = set(inspect(cg.engine).get_table_names()) & set(everything().metadata.tables)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        raise BadInput(f"cannot reach the database {safe_url(cg.engine)}: {reason}") from None
    if not current and ours:
        raise BadInput(f"{safe_url(cg.engine)} has an out-of-date changegate schema; {advice}")
    if current:
        people, count = cg.run(service.population)
        if people or count:
            raise BadInput(
                f"{safe_url(cg.engine)} already has {plural(people, 'user')} and "
                f"{plural(count, 'change')}; the demo seeds only an empty database ({advice})"
            )


def _activate() -> str | None:
    """How to put this changegate on PATH in another shell, if it is not there already."""
    if sys.prefix == sys.base_prefix:
        return None
    script = Path(sys.prefix) / "bin" / "activate"
    try:
        shown = script.relative_to(Path.cwd())
    except ValueError:
        shown = script
    return f"source {shown}"


def _print(summary: service.DemoSummary, where: str, dedicated: bool, own_policy: bool) -> None:
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
    unsigned = (
        f" ({audit.unauthenticated} of them AUTH-1: the seeded decisions were made in-process, "
        "not signed in)"
        if audit.unauthenticated
        else ""
    )
    say(
        f"\nThe ISO's audit of {audit.period} at the quarter's end: "
        f"{plural(audit.findings, 'finding')}{unsigned}{waived}"
    )
    trail = summary.trail
    say(
        f"AWS: a day of the organisation's CloudTrail ({trail.day}, "
        f"{plural(trail.events, 'record')}) ingested the next morning; "
        f"{plural(len(trail.uncovered), 'console change')} to production no change covers "
        "(CM-5.unauthorised-aws-change)"
    )
    say("\nWhat to try next, in another terminal in this directory (copy the lines as they are):")
    for line in _next_steps(summary, dedicated, own_policy):
        say(f"  {line}")


def _who(summary: service.DemoSummary, role: str) -> str:
    return next(p.email for p in summary.people if role in p.roles)


def _next_steps(summary: service.DemoSummary, dedicated: bool, own_policy: bool) -> list[str]:
    revised = summary.highlights[0][0]
    key, me = summary.next_key, _who(summary, "requester")
    setup = [line for line in (_activate(),) if line]
    if dedicated:
        setup.append(f"export CHANGEGATE_DATABASE_URL=sqlite:///{DEMO_FILE}")
    # The approvals below go through --as: the demo's policy allows that (docs/identity.md).
    setup.append(
        "# your CHANGEGATE_POLICY needs identity: {local_decisions: allow} for the approvals"
        if own_policy
        else f"export CHANGEGATE_POLICY={DEMO_POLICY}"
    )
    return [
        *setup,
        f"changegate status --as {_who(summary, 'iso')}",
        "changegate change list",
        f"changegate change show {revised}",
        "changegate change overdue",
        "changegate ledger verify",
        f'changegate change create --as {me} --title "Enable HTTP/3 on the api-gateway edge" '
        '--scope "Turn on QUIC listeners" --impact "Clients fall back to HTTP/2 on failure" '
        '--rollback "Disable the QUIC listeners" --ticket ENG-2401 --service api-gateway '
        f"--env staging --env production   # prints {key}",
        f"changegate change submit {key} --as {me}",
        f"changegate change approve {key} --as {_who(summary, 'cab')} --role cab --version 1",
        f"changegate change approve {key} --as {_who(summary, 'iso')} --role iso --version 1",
        f"changegate change show {key}",
        f"changegate finding list --as {_who(summary, 'iso')}",
        f"changegate trail list --uncovered --as {_who(summary, 'iso')}",
        "changegate waiver list",
        f"changegate audit run --period {summary.audit.period} --dry-run "
        f"--as {_who(summary, 'auditor')}   # exit 1: the quarter has findings",
    ]


def _print_api(cg: App, summary: service.DemoSummary, host: str, port: int) -> None:
    """Tokens for the API at once (the pipeline, a requester, the auditor), and the gate."""
    wanted = [
        next(p for p in summary.people if role in p.roles)
        for role in ("pipeline", "requester", "auditor")
    ]
    made = cg.run(
        lambda ctx: [new_token(*tokens.create_token(ctx, p.email, "demo", 1)) for p in wanted],
        actor=runtime.LOCAL_ADMIN,
    )
    say("\nAPI tokens for the demo (valid one day):")
    for person, token in zip(wanted, made, strict=True):
        say(f"  {', '.join(person.roles):<10} {person.email:<42} {token.token}")
    url = f"http://{_shown_host(host)}:{port}"
    pipeline, auditor = made[0].token, made[2].token
    gate = summary.gate
    # The full path: these lines are pasted into a pipeline's shell, where no venv is active.
    remote = f"CHANGEGATE_URL={url} CHANGEGATE_TOKEN={pipeline} {_executable()} gate check"
    say("\nThe deployment gate over the API, as the pipeline (exit 0 allowed, 1 denied):")
    say(
        f"  {remote} --change {gate.allowed} --env production --commit {gate.commit}"
        "   # ALLOWED: approved, passing staging run for this commit"
    )
    say(
        f"  {remote} --change {gate.denied} --env production --commit {gate.commit}"
        "   # DENIED: still awaiting CAB and ISO approval (CM-2), no staging run (CM-4)"
    )
    say(f"  curl -s -H 'Authorization: Bearer {auditor}' {url}/api/v1/changes/overdue")
    say(f"  open {url}/docs for every operation")
    _print_web(summary, url)


def _print_web(summary: service.DemoSummary, url: str) -> None:
    """The web app, signed in through the demo-only sign-in (this demo's policy enables it),
    opened in a browser when there is a desktop to open one on."""
    sign_in = f"{url}/auth/demo?next=/"
    say("\nThe web app (sign in by picking a person: the demo's policy allows it, no real one):")
    say(f"  {sign_in}   e.g. as the ISO, {_who(summary, 'iso')}: the most awaits them")
    say(f"  {url}/dashboard?quarter={summary.audit.period}   the seeded quarter's dashboard (CM-6)")
    if sys.stdout.isatty() and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # After the server has started listening (run_server follows this banner).
        threading.Timer(1.0, webbrowser.open, [sign_in]).start()


def _executable() -> str:
    """This changegate's own command, by its full path when it sits beside the interpreter."""
    beside = Path(sys.executable).with_name("changegate")
    return str(beside) if beside.exists() else "changegate"


def _shown_host(host: str) -> str:
    return socket.gethostname() if host in ("0.0.0.0", "::") else host
