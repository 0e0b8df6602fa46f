"""`changegate status` (alias `doctor`): is this installation sound, and what awaits you."""

from __future__ import annotations

from typing import Annotated

import typer

from changegate import bootstrap
from changegate.cli import transport
from changegate.cli.formats import deadline, plural
from changegate.cli.options import As, Json, single
from changegate.cli.output import Column, emit_json, record, say, table
from changegate.config import Settings
from changegate.domain.users import normalise_email
from changegate.services.views.status import StatusOut

app = single("Database, schema, policy, signing key, people, and what awaits you.")


@app.command("status")
def status(
    as_: As = None,
    json_out: Json = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when something needs attention (an old schema, "
            "nobody holding a role the policy needs).",
        ),
    ] = False,
) -> None:
    """How this installation is set up, and what awaits you (with --as, or your token)."""
    remote = transport.remote_settings()
    if remote is not None:
        out: StatusOut = transport.fetch(
            "status", as_, StatusOut, lambda r: r.call("GET", "/api/v1/status")
        )
    else:
        out = _local(as_)
    if json_out:
        emit_json(out)
    else:
        _show(out, remote.server_url if remote else None)
    problems = _problems(out)
    if strict and problems:
        raise typer.Exit(1)


def _local(as_: str | None) -> StatusOut:
    app = bootstrap.build(Settings.from_env(), require_schema=False)
    try:
        bootstrap.refuse_missing_file(app.engine)
        return bootstrap.status(app, normalise_email(as_) if as_ else None)
    finally:
        app.engine.dispose()


def _problems(out: StatusOut) -> list[str]:
    found = []
    if not out.database_schema.current:
        found.append("the schema is not current: run `changegate init`")
    for role in ("cab", "iso"):
        if not out.people.get(role):
            found.append(f"nobody holds the {role} role: no change can be approved")
    return found


def _show(out: StatusOut, server: str | None) -> None:
    schema = out.database_schema
    since = f"{out.effective_from} (audits start there)" if out.effective_from else "-"
    record(
        f"changegate {out.version}" + (f" at {server}" if server else ""),
        [
            ("database", out.database),
            ("schema", f"{schema.revision} ({'current' if schema.current else 'needs init'})"),
            ("policy", f"{out.policy_source}, sha256:{out.policy_digest[:16]}"),
            ("adopted on", out.adopted_on.isoformat() if out.adopted_on else "not recorded"),
            ("audited from", since),
            (
                "signing key",
                out.signing_key
                or "not configured: checkpoints are unsigned (CHANGEGATE_SIGNING_KEY)",
            ),
            (
                "people",
                ", ".join(f"{role} {n}" for role, n in sorted(out.people.items())) or "none",
            ),
        ],
    )
    for problem in _problems(out):
        say(f"  ! {problem}")
    if out.you is None:
        say("\n(give --as EMAIL to see what awaits you)" if server is None else "")
        return
    say("")
    # Locally, every command acts as someone: the inbox's owner.
    acting = f" --as {out.you.person}" if server is None else ""
    table(
        f"Awaiting {out.you.person} ({plural(len(out.you.items), 'item')})",
        # Commands never wrap: a folded command cannot be copied.
        ["what", "subject", "as", "due", Column("title", wrap=True), "do", "or"],
        [
            [
                i.kind,
                i.subject,
                i.role,
                deadline(i.due_at, i.due_tz),
                i.title,
                i.command + acting,
                f"{i.alternative}{acting}" if i.alternative else None,
            ]
            for i in out.you.items
        ],
        empty=f"nothing awaits {out.you.person}",
    )
