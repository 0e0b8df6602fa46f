"""Local administration: init and users (no --as: whoever runs these administers the file)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from changegate import bootstrap
from changegate.bootstrap import safe_url
from changegate.cli import runtime
from changegate.cli.output import emit_json, say, table
from changegate.config import Settings
from changegate.db.models import User
from changegate.services import users as service

user_app = typer.Typer(help="People and principals.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(root: typer.Typer) -> None:
    root.command("init", help="Create or upgrade the database schema.")(init)
    root.add_typer(user_app, name="user")


def init() -> None:
    app = bootstrap.init(Settings.from_env())
    try:
        say(f"database ready: {safe_url(app.engine)}")
    finally:
        app.engine.dispose()


def as_json(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "roles": user.role_names,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


@user_app.command("add")
def add(
    email: str,
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    role: Annotated[list[str], typer.Option("--role", help="A role; repeat for several.")],
    json_out: Json = False,
) -> None:
    with runtime.app() as app:
        user = app.run(
            lambda ctx: as_json(service.add_user(ctx, email, name, role)), actor=runtime.LOCAL_ADMIN
        )
    if json_out:
        emit_json(user)
    else:
        say(f"added {user['email']} ({', '.join(user['roles'])})")


@user_app.command("list")
def list_(json_out: Json = False) -> None:
    with runtime.app() as app:
        people = app.read(lambda ctx: [as_json(u) for u in service.list_users(ctx)])
    if json_out:
        emit_json(people)
        return
    table(
        "Users",
        ["email", "name", "roles", "active"],
        [[u["email"], u["name"], ", ".join(u["roles"]), u["active"]] for u in people],
    )


@user_app.command("disable")
def disable(email: str) -> None:
    with runtime.app() as app:
        app.run(lambda ctx: service.disable_user(ctx, email), actor=runtime.LOCAL_ADMIN)
    say(f"disabled {email}")
