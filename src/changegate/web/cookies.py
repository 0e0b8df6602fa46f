"""The cookies sign-in uses: the session cookie and the short-lived signed sign-in cookie.

The session cookie holds only a random secret (the database keeps its SHA-256). The sign-in
cookie carries state, nonce and PKCE verifier from /auth/login to /auth/callback; it is
HMAC-SHA256-signed with the server's key and expires in ten minutes, so a browser cannot be
handed someone else's (login CSRF) and an old one is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import Request, Response

from changegate.bootstrap import App

SESSION = "changegate_session"
SIGN_IN = "changegate_sign_in"
SIGN_IN_SECONDS = 600


def secure(request: Request) -> bool:
    """Secure cookies over HTTPS, or when the settings say the public URL is https (a proxy
    terminating TLS in front of this server), or when forced by CHANGEGATE_COOKIE_SECURE."""
    web = app_of(request).settings.web
    if web.cookie_secure is not None:
        return web.cookie_secure
    public = (web.public_url or "").startswith("https://")
    return request.url.scheme == "https" or public


def app_of(request: Request) -> App:
    app: App = request.app.state.changegate
    return app


def _key(request: Request) -> bytes:
    configured = app_of(request).settings.web.secret_key
    if configured:
        return configured.encode()
    # One process: a random key for its lifetime (docs/identity.md: set one for several).
    state = request.app.state
    if not hasattr(state, "sign_in_key"):
        state.sign_in_key = secrets.token_bytes(32)
    key: bytes = state.sign_in_key
    return key


def _mac(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def put_signed(request: Request, response: Response, values: dict[str, str]) -> None:
    payload = {**values, "exp": int(time.time()) + SIGN_IN_SECONDS}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    response.set_cookie(
        SIGN_IN,
        f"{body}.{_mac(_key(request), body)}",
        max_age=SIGN_IN_SECONDS,
        path="/auth",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def read_signed(request: Request) -> dict[str, Any] | None:
    """The sign-in cookie's values when its signature is ours and it has not expired."""
    raw = request.cookies.get(SIGN_IN, "")
    body, _, mac = raw.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(_key(request), body)):
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    if not isinstance(values, dict) or int(values.get("exp", 0)) < time.time():
        return None
    return values


def drop_signed(response: Response) -> None:
    response.delete_cookie(SIGN_IN, path="/auth")


def put_session(request: Request, response: Response, secret: str) -> None:
    lifetime = app_of(request).settings.web.session_lifetime
    response.set_cookie(
        SESSION,
        secret,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def drop_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION, path="/", httponly=True, samesite="lax", secure=secure(request))
