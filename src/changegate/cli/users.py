"""Local administration: `init` and `user ...` (whoever runs these administers the database)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from changegate import bootstrap
from changegate.bootstrap import safe_url
from changegate.cli import runtime, transport
from changegate.cli.formats import when
from changegate.cli.options import DEFAULT, Json, Limit, Offset, group, single
from changegate.cli.output import emit_json, footer, say, table
from changegate.config import Settings
from changegate.db.models import User
from changegate.services import installation
from changegate.services import users as service
from changegate.services.context import Context
from changegate.services.views import users as views
from changegate.services.views.common import Page
from changegate.services.views.users import UserOut

init_app = single("Create or upgrade the database schema; records the adoption date.")
app = group("People and principals, and their roles.")
role_app = group("Add or remove a role.")
app.add_typer(role_app, name="role")

Email = Annotated[str, typer.Argument(metavar="EMAIL")]
Role = Annotated[
    str,
    typer.Argument(
        metavar="ROLE",
        help="requester, cab, iso, security_engineer, hr, auditor, admin or pipeline.",
    ),
]


@init_app.command("init")
def init() -> None:
    """Create or upgrade the database schema; the first run records the adoption date, from
    which audits start (`audits.effective_from` in the policy overrides it)."""
    transport.local_only("init")
    app_ = bootstrap.init(Settings.from_env())
    try:
        adopted = app_.run(installation.adopt, actor=runtime.LOCAL_ADMIN)
        say(f"database ready: {safe_url(app_.engine)}")
        say(
            f"adopted on {adopted.isoformat()}: audits start there (policy key "
            "audits.effective_from overrides it)"
        )
    finally:
        app_.engine.dispose()


@app.command("add")
def add(
    email: Email,
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    role: Annotated[
        list[str], typer.Option("--role", metavar="ROLE", help="A role; repeat for several.")
    ],
    json_out: Json = False,
) -> None:
    """Add a person or pipeline principal with one or more roles."""
    user = _local("user add", lambda ctx: service.add_user(ctx, email, name, role))
    emit_json(user) if json_out else say(f"added {user.email} ({', '.join(user.roles)})")


def _local(command: str, use_case: Callable[[Context], User]) -> UserOut:
    transport.local_only(command)
    with runtime.app() as cg:
        return cg.run(lambda ctx: views.user(use_case(ctx)), actor=runtime.LOCAL_ADMIN)


@app.command("list")
def list_(limit: Limit = DEFAULT, offset: Offset = 0, json_out: Json = False) -> None:
    """Everyone, by email."""
    page = transport.read(
        "user list",
        None,
        Page[UserOut],
        lambda ctx: views.users(ctx, limit, offset),
        lambda r: r.call("GET", "/api/v1/users", params={"limit": limit, "offset": offset}),
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"Users ({page.total})",
        ["email", "name", "roles", "active", "github", "added"],
        [
            [u.email, u.name, ", ".join(u.roles), u.active, u.github_login, when(u.created_at)]
            for u in page.items
        ],
        empty="no users yet: add one with `changegate user add`",
    )
    footer(len(page.items), page.total, offset)


@app.command("disable")
def disable(email: Email, json_out: Json = False) -> None:
    """Disable a person: their tokens stop working and they can no longer act."""
    user = _local("user disable", lambda ctx: service.disable_user(ctx, email))
    emit_json(user) if json_out else say(f"disabled {user.email}")


@app.command("enable")
def enable(email: Email, json_out: Json = False) -> None:
    """Enable a disabled person again."""
    user = _local("user enable", lambda ctx: service.enable_user(ctx, email))
    emit_json(user) if json_out else say(f"enabled {user.email}")


@app.command("github")
def github(
    email: Email,
    login: Annotated[
        str | None, typer.Argument(metavar="LOGIN", help="Their GitHub login; omit to unlink.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Link a person to their GitHub account: pull requests they wrote make them an author."""
    user = _local("user github", lambda ctx: service.link_github(ctx, email, login))
    shown = f"GitHub {user.github_login}" if user.github_login else "no GitHub account"
    emit_json(user) if json_out else say(f"{user.email}: {shown}")


@role_app.command("add")
def role_add(email: Email, role: Role, json_out: Json = False) -> None:
    """Give a person one more role."""
    user = _local("user role add", lambda ctx: service.add_role(ctx, email, role))
    emit_json(user) if json_out else say(f"{user.email} now holds {', '.join(user.roles)}")


@role_app.command("remove")
def role_remove(email: Email, role: Role, json_out: Json = False) -> None:
    """Take a role away from a person (not their last one: disable them instead)."""
    user = _local("user role remove", lambda ctx: service.remove_role(ctx, email, role))
    emit_json(user) if json_out else say(f"{user.email} now holds {', '.join(user.roles)}")
