"""Signing people in: OpenID Connect (authorization code + PKCE), the demo sign-in, sign-out,
and what every page asks of it: who is signed in (`signed_in`) and the CSRF check.

Routes: GET /auth/login, GET /auth/callback, POST /auth/logout, GET|POST /auth/demo,
GET /auth/signed-out. A refusal is a page with a 4xx status that says why; nothing is written.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.api.access import Caller
from changegate.api.errors import problem
from changegate.db.users import Users
from changegate.domain.errors import Forbidden, NotFound, Unauthenticated
from changegate.domain.identity import Principal, SignInMethod, admit, granted_roles
from changegate.integrations.ports import IntegrationError
from changegate.services import web_sessions
from changegate.services.context import Context
from changegate.web import cookies, provider
from changegate.web.cookies import app_of
from changegate.web.sign_in_pages import demo_page, message_page

router = APIRouter(prefix="/auth", include_in_schema=False)


class SignInRequired(Exception):
    """No live session: a browser is sent to sign in and brought back to `back`."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


@dataclass(frozen=True)
class SignedIn:
    """The signed-in person, as a page sees them. `caller` runs use cases as them, with the
    roles the page's route declares (`openapi_extra=allow(...)`), through the API's checks."""

    email: str
    name: str
    roles: frozenset[str]
    method: str
    csrf_token: str
    caller: Caller


@dataclass(frozen=True)
class _Live:
    email: str
    name: str
    roles: frozenset[str]
    method: str
    csrf_token: str


def _live(request: Request) -> _Live | None:
    """The session behind the request's cookie (read once per request)."""
    if hasattr(request.state, "cg_session"):
        cached: _Live | None = request.state.cg_session
        return cached
    secret = request.cookies.get(cookies.SESSION, "")

    def load(ctx: Context) -> _Live | None:
        row = web_sessions.lookup(ctx, secret)
        if row is None:
            return None
        roles = web_sessions.roles(row)
        return _Live(row.user.email, row.user.name, roles, row.method, row.csrf_token)

    found = app_of(request).read(load) if secret else None
    request.state.cg_session = found
    return found


def signed_in(request: Request) -> SignedIn:
    """FastAPI dependency of every page: the signed-in person, or SignInRequired (a browser
    is redirected to /auth/login and comes back here afterwards)."""
    live = _live(request)
    if live is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    route = request.scope.get("route")
    declared = frozenset((getattr(route, "openapi_extra", None) or {}).get("x-roles", []))
    secret = request.cookies.get(cookies.SESSION, "")
    caller = Caller(app_of(request), secret, declared, Principal.SESSION)
    return SignedIn(live.email, live.name, live.roles, live.method, live.csrf_token, caller)


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


def csrf_token(request: Request) -> str:
    """The token this session's forms carry (empty without a session)."""
    live = _live(request)
    return live.csrf_token if live else ""


def check_csrf(request: Request, token: str) -> bool:
    """Whether a state-changing request carries this session's token and, when the browser
    says where the request came from (Origin), that it came from this server."""
    live = _live(request)
    if live is None or not token or not hmac.compare_digest(token, live.csrf_token):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == _origin(request)


def _origin(request: Request) -> str:
    public = app_of(request).settings.web.public_url
    if public:
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.url.netloc}"


class SessionIdentity:
    """What the pages ask of sign-in (web.pages.Identity)."""

    def email(self, request: Request) -> str | None:
        live = _live(request)
        return live.email if live else None

    def csrf_token(self, request: Request) -> str:
        return csrf_token(request)

    def check_csrf(self, request: Request, token: str) -> bool:
        return check_csrf(request, token)


IDENTITY = SessionIdentity()


def safe_next(raw: str | None) -> str:
    """Only a path on this server: never an open redirect to another site."""
    value = (raw or "/").strip()
    if not value.startswith("/") or value.startswith(("//", "/\\")) or "\n" in value:
        return "/"
    return value


def _demo_on(request: Request) -> bool:
    return app_of(request).policy.identity.demo_sign_in


@router.get("/login")
def login(request: Request, next: str = "/") -> Response:
    back = safe_next(next)
    oidc = app_of(request).settings.oidc
    if oidc is None:
        if _demo_on(request):
            return RedirectResponse(f"/auth/demo?{urlencode({'next': back})}", status_code=303)
        return message_page(
            503,
            "Sign-in is not configured",
            "This server has no identity provider: set CHANGEGATE_OIDC_ISSUER, "
            "CHANGEGATE_OIDC_CLIENT_ID, CHANGEGATE_OIDC_CLIENT_SECRET and "
            "CHANGEGATE_PUBLIC_URL (docs/identity.md).",
        )
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    try:
        where = provider.of(request).authorization_url(state, nonce, verifier)
    except IntegrationError as exc:
        return message_page(502, "The identity provider cannot be reached", str(exc))
    response = RedirectResponse(where, status_code=303)
    values = {"state": state, "nonce": nonce, "verifier": verifier, "next": back}
    cookies.put_signed(request, response, values)
    return response


@router.get("/callback")
def callback(
    request: Request, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> Response:
    pending = cookies.read_signed(request)
    if pending is None or "state" not in pending:
        return _refused(400, "This sign-in expired or was started in another browser.")
    if error:
        # The provider's words, shortened: they come through the browser, from anyone.
        said = f": {error_description[:200]}" if error_description else ""
        return _refused(401, f"The identity provider did not sign you in ({error[:60]}{said}).")
    if not code or not hmac.compare_digest(state.encode(), str(pending["state"]).encode()):
        return _refused(400, "This sign-in's state does not match the one this browser began.")
    oidc = app_of(request).settings.oidc
    if oidc is None:
        return _refused(404, "Sign-in with an identity provider is not configured here.")
    try:
        # The provider's clock, not a demo's simulated one, says whether its token is fresh.
        claims = provider.of(request).finish(
            code, pending["verifier"], pending["nonce"], datetime.now(UTC)
        )
    except Unauthenticated as exc:
        return _refused(401, exc.message)
    except IntegrationError as exc:
        return _refused(502, f"The identity provider could not be reached: {exc}")
    rules = oidc.rules()
    try:
        email = admit(claims, rules)
    except Unauthenticated as exc:
        return _refused(403, exc.message)
    return _start(request, email, SignInMethod.OIDC, granted_roles(claims, rules), pending)


def _start(
    request: Request,
    email: str,
    method: SignInMethod,
    granted: frozenset[str] | None,
    pending: dict[str, Any],
) -> Response:
    app = app_of(request)
    lifetime = app.settings.web.session_lifetime
    try:
        secret, _ = app.run(lambda ctx: web_sessions.start(ctx, email, method, lifetime, granted))
    except NotFound:
        return _refused(
            403,
            f"{email} is not a changegate user. An administrator adds people with "
            "`changegate user add`.",
        )
    except Forbidden:
        return _refused(403, f"{email} is disabled in changegate.")
    response = RedirectResponse(safe_next(pending.get("next")), status_code=303)
    cookies.put_session(request, response, secret)
    cookies.drop_signed(response)
    return response


def _refused(status: int, why: str) -> Response:
    response = message_page(status, "You are not signed in", why, retry=True)
    cookies.drop_signed(response)
    return response


@router.post("/logout")
def logout(
    request: Request,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    token = csrf_token or request.headers.get("x-csrf-token", "")
    if _live(request) is not None:
        if not check_csrf(request, token):
            return message_page(403, "Not signed out", "This form did not come from changegate.")
        secret = request.cookies.get(cookies.SESSION, "")
        app_of(request).run(lambda ctx: web_sessions.end(ctx, secret))
    response = RedirectResponse("/auth/signed-out", status_code=303)
    cookies.drop_session(request, response)
    return response


@router.get("/signed-out")
def signed_out() -> HTMLResponse:
    return message_page(200, "Signed out", "You have signed out of changegate.", retry=True)


@router.get("/demo")
def demo_form(request: Request, next: str = "/") -> Response:
    if not _demo_on(request):
        return message_page(404, "Not found", "The demo sign-in is off in this policy.")

    def people(ctx: Context) -> list[tuple[str, str, str]]:
        found = Users(ctx.session).all()
        return [(u.email, u.name, ", ".join(u.role_names)) for u in found if u.active]

    token = secrets.token_urlsafe(16)
    response = demo_page(app_of(request).read(people), token, safe_next(next))
    cookies.put_signed(request, response, {"demo": token})
    return response


@router.post("/demo")
def demo_sign_in(
    request: Request,
    email: Annotated[str, Form()],
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not _demo_on(request):
        return message_page(404, "Not found", "The demo sign-in is off in this policy.")
    pending = cookies.read_signed(request) or {}
    # The form's token must be the one this browser was given with the form (login CSRF).
    if not token or not hmac.compare_digest(token, str(pending.get("demo", ""))):
        return _refused(400, "This sign-in form expired or came from another site.")
    return _start(request, email, SignInMethod.DEMO, None, {"next": next})


def install(api: FastAPI) -> None:
    """Mount the sign-in routes; a page without a session sends a browser to sign in."""
    from changegate.web import cli_login  # noqa: PLC0415  (it imports this module)

    api.include_router(router)
    api.include_router(cli_login.router)

    async def sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if "text/html" in request.headers.get("accept", "") or request.method == "GET":
            return RedirectResponse(f"/auth/login?{urlencode({'next': exc.back})}", status_code=303)
        return problem(401, "unauthorized", "sign in first", challenge="Cookie")

    api.add_exception_handler(SignInRequired, sign_in)
