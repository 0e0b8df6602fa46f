"""Read models of people, principals and their API tokens."""

from __future__ import annotations

from changegate.db.models import Token, User
from changegate.db.tokens import Tokens
from changegate.db.users import Users
from changegate.domain.users import normalise_email
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window


class UserOut(Out):
    email: str
    name: str
    roles: list[str]
    active: bool
    created_at: Instant
    github_login: str | None  # their GitHub account, lower-case


class TokenOut(Out):
    id: int
    user: str
    roles: list[str]
    name: str
    prefix: str
    created_at: Instant
    expires_at: Instant | None
    revoked_at: Instant | None
    last_used_at: Instant | None


class NewTokenOut(TokenOut):
    token: str  # the secret: shown once, stored only as its SHA-256


def user(u: User) -> UserOut:
    return UserOut(
        email=u.email,
        name=u.name,
        roles=u.role_names,
        active=u.active,
        created_at=u.created_at,
        github_login=u.github_login,
    )


def token(t: Token) -> TokenOut:
    return TokenOut(**_token_fields(t))


def new_token(t: Token, secret: str) -> NewTokenOut:
    return NewTokenOut(**_token_fields(t), token=secret)


def _token_fields(t: Token) -> dict[str, object]:
    return {
        "id": t.id,
        "user": t.user.email,
        "roles": t.user.role_names,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "last_used_at": t.last_used_at,
    }


def users(ctx: Context, limit: int, offset: int) -> Page[UserOut]:
    check_window(limit, offset)
    found = Users(ctx.session).page_all(limit, offset)
    return Page.of([user(u) for u in found.rows], found.total, limit, offset)


def tokens(ctx: Context, limit: int, offset: int) -> Page[TokenOut]:
    check_window(limit, offset)
    found = Tokens(ctx.session).page(limit, offset)
    return Page.of([token(t) for t in found.rows], found.total, limit, offset)


def me(ctx: Context) -> UserOut:
    return user(ctx.user())


def show(ctx: Context, email: str) -> UserOut:
    """One person or principal by email; raises BadInput (not an email) or NotFound."""
    return user(Users(ctx.session).get(normalise_email(email)))
