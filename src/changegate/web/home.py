"""Home: what awaits the signed-in person (services/inbox.py), each item one click from done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from changegate.services.inbox import inbox
from changegate.web.pages import Viewer, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Who) -> HTMLResponse:
    # Each decision button names the version the inbox read (the version the person saw).
    return render(request, who, "home.html", {"inbox": read(request, who, inbox)})
