"""People and their tokens (tokens for admins only), and the ledger's verification status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from changegate.services.views import ledger_status
from changegate.services.views import users as views
from changegate.web.pages import Viewer, read, render, require, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
PAGE = 100


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, who: Who, offset: Offset = 0) -> HTMLResponse:
    require(who, "read-users")
    found = read(request, who, lambda ctx: views.users(ctx, PAGE, offset))
    tokens = (
        read(request, who, lambda ctx: views.tokens(ctx, PAGE, 0))
        if who.may("manage-tokens")
        else None
    )
    return render(request, who, "people.html", {"page": found, "tokens": tokens, "args": {}})


@router.get("/ledger", response_class=HTMLResponse)
def ledger(request: Request, who: Who, verify: Annotated[bool, Query()] = False) -> HTMLResponse:
    require(who, "read-ledger")
    out = read(request, who, lambda ctx: ledger_status.status(ctx, verify))
    return render(request, who, "ledger.html", {"s": out})
