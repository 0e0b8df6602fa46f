"""Local administration of people and principals."""

from __future__ import annotations

from collections.abc import Sequence

from changegate.db.models import User, UserRole
from changegate.db.users import Users
from changegate.domain.errors import BadInput
from changegate.domain.users import normalise_email, parse_roles
from changegate.services.context import Context


def add_user(ctx: Context, email: str, name: str, roles: list[str]) -> User:
    address = normalise_email(email)
    parsed = parse_roles(roles)
    if not name.strip():
        raise BadInput("give the person's --name")
    users = Users(ctx.session)
    if users.find(address) is not None:
        raise BadInput(f"{address} already exists")
    user = users.add(
        User(
            email=address,
            name=name.strip(),
            active=True,
            created_at=ctx.now,
            roles=[UserRole(role=r.value) for r in parsed],
        )
    )
    ctx.record(
        "user.added",
        f"user:{address}",
        {"email": address, "name": user.name, "roles": [r.value for r in parsed]},
    )
    return user


def disable_user(ctx: Context, email: str) -> User:
    user = Users(ctx.session).get(normalise_email(email))
    if not user.active:
        raise BadInput(f"{user.email} is already disabled")
    user.active = False
    ctx.session.flush()
    ctx.record("user.disabled", f"user:{user.email}", {"email": user.email})
    return user


def list_users(ctx: Context) -> Sequence[User]:
    return Users(ctx.session).all()
