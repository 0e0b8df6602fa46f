"""What every page shares: the signed-in viewer, the templates, transactions, error pages.

A page handler reads through `read` and writes through `act`; both run the use case as the
signed-in person through the API's Caller (the session is authenticated again inside the
transaction, and the ledger marks the record as made in a web session). `act` first checks
the form's CSRF token and the action's roles (the API's table, see access.py). Domain errors
become an HTML page with the API's status code; nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from changegate.api.access import Caller
from changegate.api.errors import status_of
from changegate.domain import wording
from changegate.domain.errors import DomainError
from changegate.domain.users import Role
from changegate.services.context import Context
from changegate.web import access
from changegate.web.access import Table
from changegate.web.auth import SignedIn, signed_in

T = TypeVar("T")
EVERYONE = frozenset(r.value for r in Role)

ENV = Environment(
    loader=PackageLoader("changegate.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Deadlines read as the CLI prints them ("end of Thu 2026-12-03 (America/New_York)").
ENV.filters["deadline"] = wording.deadline
NAV = (
    ("/", "Home"),
    ("/dashboard", "Dashboard"),
    ("/changes", "Changes"),
    ("/calendar", "Calendar"),
    ("/drift", "Drift"),
    ("/waivers", "Waivers"),
    ("/findings", "Findings"),
    ("/reviews", "Reviews"),
    ("/cab", "CAB"),
    ("/people", "People"),
    ("/ledger", "Ledger"),
)


class Identity(Protocol):
    """The CSRF check, provided by the sign-in module (web/auth.py)."""

    def check_csrf(self, request: Request, token: str) -> bool:
        """Whether `token` is this session's (and the request came from this site)."""


class WebError(Exception):
    """An answer of `status` with a message for the person; nothing was written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as a page sees them. `caller` runs use cases as them through the
    API's authentication and role check (api/access.py), with the roles an action's API
    operation declares."""

    email: str
    name: str
    roles: frozenset[str]
    csrf: str
    table: Table
    caller: Caller

    def may(self, action: str) -> bool:
        return self.table.may(action, self.roles)


def identity_of(request: Request) -> Identity:
    identity: Identity = request.app.state.web_identity
    return identity


def table(request: Request) -> Table:
    """The API's roles per page action, read once from its OpenAPI document (built on the
    first page view rather than at start-up, which every test and command would pay for)."""
    found: Table | None = getattr(request.app.state, "web_access", None)
    if found is None:
        found = access.table_of(request.app.openapi())
        request.app.state.web_access = found
    return found


def viewer(request: Request, signed: Annotated[SignedIn, Depends(signed_in)]) -> Viewer:
    """The FastAPI dependency of every page: the signed-in person (sign-in redirects first)."""
    return Viewer(
        signed.email, signed.name, signed.roles, signed.csrf_token, table(request), signed.caller
    )


def read(request: Request, who: Viewer, fn: Callable[[Context], T]) -> T:
    """Run a query as the viewer; a domain error becomes an error page. Every signed-in
    person reads pages; what a query hides from some roles, its service decides."""
    try:
        return replace(who.caller, roles=EVERYONE).read(fn)
    except DomainError as exc:
        raise WebError(status_of(exc)[0], exc.message) from None


def act(request: Request, who: Viewer, action: str, csrf: str, fn: Callable[[Context], T]) -> T:
    """Run a use case as the viewer in one transaction, after the CSRF and role checks."""
    if not identity_of(request).check_csrf(request, csrf):
        raise WebError(403, "This form has expired or did not come from changegate; reload it.")
    try:
        who.table.check(action, who.email, who.roles)
        return replace(who.caller, roles=who.table.roles[action]).write(fn)
    except DomainError as exc:
        raise WebError(status_of(exc)[0], exc.message) from None


def render(
    request: Request,
    who: Viewer | None,
    template: str,
    context: Mapping[str, Any],
    status: int = 200,
) -> HTMLResponse:
    body = ENV.get_template(template).render(
        **context, viewer=who, nav=NAV, path=request.url.path, query=_query
    )
    return HTMLResponse(body, status_code=status)


def done(to: str) -> RedirectResponse:
    """After a POST: see the result with a GET (a reload does not post again)."""
    return RedirectResponse(to, status_code=303)


def _query(base: Mapping[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**base, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else ""


def local(target: str) -> str:
    """`target` if it is a path on this site, else "" (a form's `next` is never an open
    redirect)."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if ok else ""


def require(who: Viewer, action: str) -> None:
    """WebError 403 unless the viewer's roles may take `action`."""
    try:
        who.table.check(action, who.email, who.roles)
    except DomainError as exc:
        raise WebError(403, exc.message) from None
