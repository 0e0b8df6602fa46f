"""Local administration of people and principals."""

from __future__ import annotations

import re

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
    return _set_active(ctx, email, False)


def enable_user(ctx: Context, email: str) -> User:
    return _set_active(ctx, email, True)


def _set_active(ctx: Context, email: str, active: bool) -> User:
    user = Users(ctx.session).get(normalise_email(email))
    word = "enabled" if active else "disabled"
    if user.active is active:
        raise BadInput(f"{user.email} is already {word}")
    user.active = active
    ctx.session.flush()
    ctx.record(f"user.{word}", f"user:{user.email}", {"email": user.email})
    return user


def add_role(ctx: Context, email: str, role: str) -> User:
    user = Users(ctx.session).get(normalise_email(email))
    (wanted,) = parse_roles([role])
    if wanted.value in user.role_names:
        raise BadInput(f"{user.email} already holds the {wanted.value} role")
    user.roles.append(UserRole(role=wanted.value))
    return _roles_changed(ctx, user, "user.role_added", wanted.value)


def remove_role(ctx: Context, email: str, role: str) -> User:
    user = Users(ctx.session).get(normalise_email(email))
    (wanted,) = parse_roles([role])
    held = [r for r in user.roles if r.role == wanted.value]
    if not held:
        raise BadInput(f"{user.email} does not hold the {wanted.value} role")
    if len(user.roles) == 1:
        raise BadInput(f"{wanted.value} is the only role of {user.email}; disable the user instead")
    user.roles.remove(held[0])
    return _roles_changed(ctx, user, "user.role_removed", wanted.value)


def _roles_changed(ctx: Context, user: User, action: str, role: str) -> User:
    ctx.session.flush()
    ctx.record(
        action, f"user:{user.email}", {"email": user.email, "role": role, "roles": user.role_names}
    )
    return user


GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def link_github(ctx: Context, email: str, login: str | None) -> User:
    """Say which GitHub account is this person's (None: none), so pull requests they wrote
    count them as an author of the change (segregation of duties)."""
    user = Users(ctx.session).get(normalise_email(email))
    wanted = login.strip().lower() if login else None
    if wanted is not None and not GITHUB_LOGIN.fullmatch(wanted):
        raise BadInput(f"not a GitHub login: {login!r}")
    holder = Users(ctx.session).by_github(wanted) if wanted else None
    if holder is not None and holder.id != user.id:
        raise BadInput(f"GitHub login {wanted} is already {holder.email}'s")
    user.github_login = wanted
    ctx.session.flush()
    ctx.record("user.github_linked", f"user:{user.email}", {"email": user.email, "login": wanted})
    return user
