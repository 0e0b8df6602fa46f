"""`changegate token create|list|revoke`: local administration of API tokens."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from changegate.cli import runtime
from changegate.cli.output import emit_json, say, table
from changegate.db.models import Token
from changegate.services import tokens
from changegate.services.context import Context

app = typer.Typer(help="API tokens for people and pipelines.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def as_json(t: Token) -> dict[str, Any]:
    return {
        "id": t.id,
        "user": t.user.email,
        "roles": t.user.role_names,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
    }


@app.command("create")
def create(
    user: Annotated[str, typer.Option(help="The user or pipeline principal (email).")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "token",
    expires_days: Annotated[int | None, typer.Option(help="Days until it expires.")] = 90,
    json_out: Json = False,
) -> None:
    """Create a token; the secret is printed once and only its hash is kept."""

    def use_case(ctx: Context) -> dict[str, Any]:
        token, secret = tokens.create_token(ctx, user, name, expires_days)
        return as_json(token) | {"token": secret}

    with runtime.app() as cg:
        made = cg.run(use_case, actor=runtime.LOCAL_ADMIN)
    if json_out:
        emit_json(made)
        return
    say(made["token"])
    say(
        f"# token {made['id']} for {made['user']}, expires {made['expires_at'] or 'never'}; "
        "store it now: it is not shown again"
    )


@app.command("list")
def list_(json_out: Json = False) -> None:
    """Every token (never the secrets)."""
    with runtime.app() as cg:
        rows = cg.read(lambda ctx: [as_json(t) for t in tokens.list_tokens(ctx)])
    if json_out:
        emit_json(rows)
        return
    table(
        "Tokens",
        ["id", "user", "name", "prefix", "expires", "revoked", "last used"],
        [
            [
                r["id"],
                r["user"],
                r["name"],
                r["prefix"],
                r["expires_at"],
                r["revoked_at"],
                r["last_used_at"],
            ]
            for r in rows
        ],
    )


@app.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke a token at once."""
    with runtime.app() as cg:
        cg.run(lambda ctx: tokens.revoke(ctx, token_id), actor=runtime.LOCAL_ADMIN)
    say(f"revoked token {token_id}")
