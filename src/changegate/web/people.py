"""People and their API tokens: everyone reads the list; admins add people, change their roles,
disable and enable them, issue tokens (the secret shown once, on the answer to the form) and
revoke them.

The same use cases as `changegate user ...` and `changegate token ...` (services/users.py,
services/tokens.py), so the same messages; admins only, on the page and in the transaction.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import StringConstraints

from changegate.domain.users import Role
from changegate.services import tokens, users
from changegate.services.context import Context
from changegate.services.views import users as views
from changegate.services.views.users import NewTokenOut
from changegate.web.pages import Viewer, act, done, read, render, require, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
# A path parameter that may hold a "/" (an email's local part may).
Email = Annotated[str, Path(max_length=320)]
RoleName = Annotated[str, StringConstraints(max_length=40)]
Roles = Annotated[list[RoleName], Form(max_length=len(Role))]
PAGE = 100
TOKEN_DAYS = 90  # `changegate token create`'s default


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, who: Who, offset: Offset = 0) -> HTMLResponse:
    require(who, "read-users")
    found = read(request, who, lambda ctx: views.users(ctx, PAGE, offset))
    listed = (
        read(request, who, lambda ctx: views.tokens(ctx, PAGE, 0))
        if who.may("manage-tokens")
        else None
    )
    context: dict[str, object] = {"page": found, "tokens": listed, "args": {}}
    return render(request, who, "people.html", context | {"roles": list(Role)})


@router.post("/people")
def add(
    request: Request,
    who: Who,
    csrf_token: Csrf,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=200)],
    role: Roles = [],  # noqa: B006  # FastAPI copies a default; none: the service's message
) -> RedirectResponse:
    made = act(
        request,
        who,
        "manage-users",
        csrf_token,
        lambda ctx: users.add_user(ctx, email, name, role).email,
    )
    return done(_page(made))


@router.get("/people/{email:path}", response_class=HTMLResponse)
def person(request: Request, who: Who, email: Email) -> HTMLResponse:
    require(who, "read-users")
    out = read(request, who, lambda ctx: views.show(ctx, email))
    context = {"u": out, "roles": list(Role), "token_days": TOKEN_DAYS}
    return render(request, who, "person.html", context)


@router.post("/people/{email:path}/roles")
def set_roles(
    request: Request,
    who: Who,
    email: Email,
    csrf_token: Csrf,
    role: Roles = [],  # noqa: B006  # none ticked: the service says what to do instead
) -> RedirectResponse:
    made = act(request, who, "manage-users", csrf_token, lambda ctx: _set_roles(ctx, email, role))
    return done(_page(made))


def _page(email: str) -> str:
    # An email's local part may hold "#", "?" or "/": quoted, the redirect lands on its page.
    return "/people/" + quote(email, safe="@")


def _set_roles(ctx: Context, email: str, wanted: list[str]) -> str:
    """`changegate user role add` for each role ticked and not held, then `... role remove` for
    each held and not ticked (adding first, so a swap never empties anyone's roles); one
    transaction, so a refusal writes nothing."""
    held = views.show(ctx, email)
    ticked = {r.strip().lower() for r in wanted}
    for name in sorted(ticked - set(held.roles)):
        users.add_role(ctx, held.email, name)
    for name in sorted(set(held.roles) - ticked):
        users.remove_role(ctx, held.email, name)
    return held.email


@router.post("/people/{email:path}/disable")
def disable(request: Request, who: Who, email: Email, csrf_token: Csrf) -> RedirectResponse:
    made = act(
        request, who, "manage-users", csrf_token, lambda ctx: users.disable_user(ctx, email).email
    )
    return done(_page(made))


@router.post("/people/{email:path}/enable")
def enable(request: Request, who: Who, email: Email, csrf_token: Csrf) -> RedirectResponse:
    made = act(
        request, who, "manage-users", csrf_token, lambda ctx: users.enable_user(ctx, email).email
    )
    return done(_page(made))


@router.post("/people/{email:path}/tokens", response_class=HTMLResponse)
def issue_token(
    request: Request,
    who: Who,
    email: Email,
    csrf_token: Csrf,
    name: Annotated[str, Form(max_length=100)] = "token",
    expires_days: Annotated[int, Form(ge=1, le=3650)] = TOKEN_DAYS,
) -> HTMLResponse:
    """The secret is on this answer only (no redirect: a page reached again by GET could not
    show it, since only its SHA-256 is stored); pages are never cached (app.py)."""

    def use_case(ctx: Context) -> NewTokenOut:
        token, secret = tokens.create_token(ctx, email, name, expires_days)
        return views.new_token(token, secret)

    made = act(request, who, "manage-tokens", csrf_token, use_case)
    return render(request, who, "token.html", {"t": made})


@router.post("/people/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    who: Who,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    csrf_token: Csrf,
) -> RedirectResponse:
    act(request, who, "manage-tokens", csrf_token, lambda ctx: tokens.revoke(ctx, token_id))
    return done("/people#tokens")
