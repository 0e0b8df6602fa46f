"""API tokens bound to a user or pipeline principal: stored hashed, shown once, expiring."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from changegate.db.models import Token, User
from changegate.db.tokens import Tokens
from changegate.db.users import Users
from changegate.domain.errors import BadInput, Unauthenticated
from changegate.domain.users import normalise_email
from changegate.services.context import Context

PREFIX = "cgt_"
TOUCH_EVERY = timedelta(minutes=10)


def well_formed(secret: str) -> bool:
    """Shaped like a secret `create_token` makes (its prefix and 43 URL-safe base64 characters):
    what the server checks before it reads a body, so a made-up token costs it nothing."""
    return (
        len(secret) == len(PREFIX) + 43
        and secret.startswith(PREFIX)
        and bool(_SHAPE.fullmatch(secret, len(PREFIX)))
    )


_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# The one answer to every token that does not authenticate, so none tells an attacker more.
REFUSED = "invalid, expired or revoked token"


def digest(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(ctx: Context, email: str, name: str, days: int | None) -> tuple[Token, str]:
    if days is not None and days < 1:
        raise BadInput("--expires-days must be at least 1")
    user = Users(ctx.session).active(normalise_email(email))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = Token(
        user_id=user.id,
        name=name.strip() or "token",
        prefix=secret[:10],
        secret_hash=digest(secret),
        created_at=ctx.now,
        expires_at=ctx.now + timedelta(days=days) if days else None,
    )
    Tokens(ctx.session).add(token)
    ctx.record(
        "token.created",
        f"user:{user.email}",
        {
            "token_id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, secret


def revoke(ctx: Context, token_id: int) -> Token:
    token = Tokens(ctx.session).get(token_id)
    if token.revoked_at is not None:
        raise BadInput(f"token {token_id} is already revoked")
    token.revoked_at = ctx.now
    ctx.session.flush()
    ctx.record("token.revoked", f"user:{token.user.email}", {"token_id": token.id})
    return token


def authenticate(ctx: Context, secret: str, touch: bool = True) -> User:
    """The principal behind a bearer token; one message for every failure, to leak nothing."""
    # The user and their roles in the same query: every route checks the roles next.
    token = Tokens(ctx.session).by_hash(digest(secret))
    refused = Unauthenticated(REFUSED)
    if token is None or token.revoked_at is not None or not token.user.active:
        raise refused
    if token.expires_at is not None and ctx.now >= token.expires_at:
        raise refused
    # Reads run in a read-only transaction: recording the use there would only be rolled back.
    if touch and (token.last_used_at is None or ctx.now - token.last_used_at > TOUCH_EVERY):
        token.last_used_at = ctx.now
    return token.user
