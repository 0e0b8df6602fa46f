"""The browser's half of `changegate login`: the signed-in person agrees to give their CLI a
token; the CLI gets a one-time code (to its localhost listener, or typed in by hand) and
exchanges it, with the verifier only it holds, for an API token.

GET|POST /auth/cli (a page, needs a session), POST /auth/cli/token (JSON, for the CLI).
"""

from __future__ import annotations

from functools import partial
from html import escape
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from changegate.api.errors import problem, status_of
from changegate.domain.errors import DomainError
from changegate.services import logins
from changegate.services.context import Context
from changegate.web import auth
from changegate.web.cookies import app_of
from changegate.web.sign_in_pages import message_page, page

router = APIRouter(include_in_schema=False)
TOKEN_PATH = "/auth/cli/token"
PORTS = range(1024, 65536)


def _port(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and int(raw) in PORTS else None


@router.get("/auth/cli")
def consent(
    request: Request, who: auth.SignedInDep, challenge: str = "", port: str = ""
) -> Response:
    if not logins.CHALLENGE.fullmatch(challenge) or (port and _port(port) is None):
        return message_page(400, "Not a changegate login", "Start again with `changegate login`.")
    fields = {"csrf_token": who.csrf_token, "challenge": challenge, "port": port}
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in fields.items()
    )
    body = (
        f"<p>The changegate command line on your computer asks for an API token for "
        f"<strong>{escape(who.email)}</strong>. It acts as you until it expires "
        f"({logins.TOKEN_DAYS} days) or an administrator revokes it.</p>"
        f'<form method="post" action="/auth/cli">{hidden}'
        f'<button type="submit">Give the command line a token</button></form>'
    )
    return page(200, "Sign in the command line", body)


@router.post("/auth/cli")
def grant(
    request: Request,
    who: auth.SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
    challenge: Annotated[str, Form()] = "",
    port: Annotated[str, Form()] = "",
) -> Response:
    if not auth.check_csrf(request, csrf_token):
        return message_page(403, "No token given", "This form did not come from changegate.")
    target = _port(port) if port else None
    if port and target is None:
        return message_page(400, "No token given", "The command line's port is not valid.")
    code = app_of(request).run(lambda ctx: logins.issue(ctx, who.email, challenge))
    if target is not None:
        # Loopback only: the code goes to the CLI's listener on this computer (RFC 8252 7.3).
        query = urlencode({"code": code})
        return RedirectResponse(f"http://127.0.0.1:{target}/callback?{query}", status_code=303)
    body = (
        "<p>Paste this one-time code where <code>changegate login</code> asks for it "
        f"(it works once, for {int(logins.CODE_LIFETIME.total_seconds() // 60)} minutes):</p>"
        f'<p><output class="login-code">{escape(code)}</output></p>'
    )
    return page(200, "Your login code", body)


class LoginTokenIn(BaseModel):
    code: str = Field(min_length=1, max_length=200)
    verifier: str = Field(min_length=43, max_length=128)
    name: str = Field(default="changegate login", max_length=100)


class LoginTokenOut(BaseModel):
    token: str
    email: str
    expires_at: str | None


@router.post(TOKEN_PATH)
async def exchange(request: Request) -> Response:
    """The CLI's code and verifier for an API token: JSON in, JSON out (RFC 9457 problems),
    outside /api/ because the caller has no bearer token yet."""
    try:
        body = LoginTokenIn.model_validate_json(await request.body())
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return problem(422, "bad-input", f"{where}: {first['msg']}")
    try:
        found = await run_in_threadpool(app_of(request).run, partial(_redeem, body))
    except DomainError as exc:
        status, kind = status_of(exc)
        return problem(status, kind, exc.message, challenge="Code")
    return JSONResponse(found.model_dump())


def _redeem(body: LoginTokenIn, ctx: Context) -> LoginTokenOut:
    token, secret = logins.redeem(ctx, body.code, body.verifier, body.name)
    expires = token.expires_at.isoformat() if token.expires_at else None
    return LoginTokenOut(token=secret, email=token.user.email, expires_at=expires)
