"""The ledger's verification status (people and tokens are in people.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from changegate.services.views import ledger_status
from changegate.web.pages import Viewer, read, render, require, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


@router.get("/ledger", response_class=HTMLResponse)
def ledger(request: Request, who: Who, verify: Annotated[bool, Query()] = False) -> HTMLResponse:
    require(who, "read-ledger")
    out = read(request, who, lambda ctx: ledger_status.status(ctx, verify))
    return render(request, who, "ledger.html", {"s": out})
