"""`changegate login`: a signed-in person's one-time code, exchanged by their CLI for a token.

The CLI makes a random verifier and sends only its SHA-256 (the challenge, as RFC 7636's S256
does) with the browser; the server binds the code it issues to that challenge, so only the
CLI that began the login can redeem it, once, within five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from changegate.db.models import LoginCode, Token
from changegate.db.users import Users
from changegate.db.web_sessions import LoginCodes
from changegate.domain.errors import BadInput, Unauthenticated
from changegate.services import tokens
from changegate.services.context import Context

CODE_LIFETIME = timedelta(minutes=5)
TOKEN_DAYS = 30
CHALLENGE = re.compile(r"^[0-9a-f]{64}$")
# One answer to every code that does not redeem, so none tells an attacker more.
REFUSED = "invalid, expired or already used login code"


def challenge_of(verifier: str) -> str:
    return hashlib.sha256(verifier.encode()).hexdigest()


def issue(ctx: Context, email: str, challenge: str) -> str:
    """A one-time code for `email`'s CLI, bound to `challenge` (64 hex digits)."""
    if not CHALLENGE.fullmatch(challenge):
        raise BadInput("challenge: the SHA-256 of the CLI's verifier, 64 hex digits")
    user = Users(ctx.session).active(email)
    code = secrets.token_urlsafe(24)
    LoginCodes(ctx.session).add(
        LoginCode(
            code_hash=tokens.digest(code),
            challenge=challenge,
            user_id=user.id,
            created_at=ctx.now,
            expires_at=ctx.now + CODE_LIFETIME,
        )
    )
    return code


def redeem(ctx: Context, code: str, verifier: str, name: str) -> tuple[Token, str]:
    """The API token the code stands for (its secret shown once). Raises Unauthenticated for a
    code that is unknown, used, expired, or not this verifier's."""
    codes = LoginCodes(ctx.session)
    row = codes.by_hash(tokens.digest(code.strip())) if code else None
    refused = Unauthenticated(REFUSED)
    if row is None or row.used_at is not None or ctx.now >= row.expires_at:
        raise refused
    if not hmac.compare_digest(challenge_of(verifier), row.challenge):
        raise refused
    if not codes.claim(row.id, ctx.now):
        raise refused
    label = (name.strip() or "changegate login")[:100]
    return tokens.create_token(ctx.acting_as(row.user.email), row.user.email, label, TOKEN_DAYS)
