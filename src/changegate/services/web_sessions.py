"""Web sessions: a browser signed in through the identity provider (or the demo sign-in).

The cookie carries a random secret; only its SHA-256 is stored, as for API tokens, so a copy
of the database signs no one in. Each session has its own CSRF token for its forms.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from changegate.db.models import WebSession
from changegate.db.users import Users
from changegate.db.web_sessions import WebSessions
from changegate.domain.identity import SignInMethod, effective_roles
from changegate.domain.users import normalise_email
from changegate.services.context import Context

DEFAULT_LIFETIME = timedelta(hours=12)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
    ctx: Context,
    email: str,
    method: SignInMethod | str,
    lifetime: timedelta = DEFAULT_LIFETIME,
    granted: frozenset[str] | None = None,
) -> tuple[str, str]:
    """Sign `email` in. Returns (cookie secret, CSRF token); the secret is shown only here.

    `granted`: the roles the identity provider's groups grant (None: no mapping configured).
    Raises NotFound for a person changegate does not know and Forbidden for a disabled one:
    signing in proves who someone is, an administrator decides whether they are a user."""
    user = Users(ctx.session).active(normalise_email(email))
    how = SignInMethod(method)
    secret = secrets.token_urlsafe(32)
    row = WebSessions(ctx.session).add(
        WebSession(
            secret_hash=digest(secret),
            user_id=user.id,
            method=how.value,
            roles=sorted(granted) if granted is not None else None,
            csrf_token=secrets.token_urlsafe(32),
            created_at=ctx.now,
            expires_at=ctx.now + lifetime,
        )
    )
    ctx.record(
        "session.started",
        f"user:{user.email}",
        {
            "session_id": row.id,
            "method": how.value,
            "expires_at": row.expires_at.isoformat(),
            "granted_roles": row.roles,
        },
    )
    return secret, row.csrf_token


def lookup(ctx: Context, secret: str) -> WebSession | None:
    """The live session behind a cookie secret, with its user and roles; None when there is
    none, or it has ended or expired, or its user has been disabled."""
    if not secret or len(secret) > 100:
        return None
    row = WebSessions(ctx.session).by_hash(digest(secret))
    if row is None or row.ended_at is not None or ctx.now >= row.expires_at:
        return None
    return row if row.user.active else None


def end(ctx: Context, secret: str) -> bool:
    """Sign out. Returns whether a live session was ended (signing out twice is harmless)."""
    row = lookup(ctx, secret)
    if row is None:
        return False
    row.ended_at = ctx.now
    ctx.session.flush()
    ctx.record("session.ended", f"user:{row.user.email}", {"session_id": row.id})
    return True


def granted(row: WebSession) -> frozenset[str] | None:
    """What the identity provider granted at sign-in (None: no mapping, the user's roles)."""
    return None if row.roles is None else frozenset(row.roles)


def roles(row: WebSession) -> frozenset[str]:
    """The roles the session acts with: the user's, narrowed to what the provider granted."""
    return effective_roles(frozenset(row.user.role_names), granted(row))
