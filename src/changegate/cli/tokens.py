"""`changegate token create|list|revoke`: local administration of API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from changegate.cli import runtime, transport
from changegate.cli.formats import when
from changegate.cli.options import DEFAULT, Json, Limit, Offset, group
from changegate.cli.output import emit_json, footer, say, table
from changegate.services import tokens
from changegate.services.context import Context
from changegate.services.views import users as views
from changegate.services.views.common import Page
from changegate.services.views.users import NewTokenOut, TokenOut

app = group("API tokens for people and pipelines.")


@app.command("create")
def create(
    user: Annotated[str, typer.Option(metavar="EMAIL", help="The person or pipeline principal.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "token",
    expires_days: Annotated[
        int, typer.Option(metavar="DAYS", min=1, max=3650, help="Days until it expires.")
    ] = 90,
    json_out: Json = False,
) -> None:
    """Create a token; the secret is printed once and only its hash is kept."""
    transport.local_only("token create")

    def use_case(ctx: Context) -> NewTokenOut:
        token, secret = tokens.create_token(ctx, user, name, expires_days)
        return views.new_token(token, secret)

    with runtime.app() as cg:
        made = cg.run(use_case, actor=runtime.LOCAL_ADMIN)
    if json_out:
        emit_json(made)
        return
    say(made.token)
    say(
        f"# token {made.id} for {made.user}, expires {when(made.expires_at) or 'never'}; "
        "store it now: it is not shown again"
    )


@app.command("list")
def list_(limit: Limit = DEFAULT, offset: Offset = 0, json_out: Json = False) -> None:
    """Every token (never the secrets)."""
    transport.local_only("token list")
    with runtime.app() as cg:
        page = cg.read(lambda ctx: views.tokens(ctx, limit, offset))
    if json_out:
        emit_json(page)
        return
    _table(page)


def _table(page: Page[TokenOut]) -> None:
    table(
        f"Tokens ({page.total})",
        ["id", "user", "name", "prefix", "expires", "revoked", "last used"],
        [
            [
                t.id,
                t.user,
                t.name,
                t.prefix,
                when(t.expires_at),
                when(t.revoked_at),
                when(t.last_used_at),
            ]
            for t in page.items
        ],
        empty="no tokens",
    )
    footer(len(page.items), page.total, page.offset)


@app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1)]) -> None:
    """Revoke a token at once."""
    transport.local_only("token revoke")
    with runtime.app() as cg:
        cg.run(lambda ctx: tokens.revoke(ctx, token_id), actor=runtime.LOCAL_ADMIN)
    say(f"revoked token {token_id}")
