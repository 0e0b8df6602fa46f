"""Home: what awaits the signed-in person (services/inbox.py), each item one click from done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from changegate.db.changes import Changes
from changegate.services.context import Context
from changegate.services.inbox import InboxOut, inbox
from changegate.web.pages import Viewer, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
DECISIONS = {"approve-change", "retro-approve-change"}


def awaiting(ctx: Context) -> tuple[InboxOut, dict[str, int]]:
    """The inbox and the current version of each change awaiting a decision (the button
    decides on the version the page showed)."""
    box = inbox(ctx)
    repo = Changes(ctx.session)
    versions = {i.subject: repo.get(i.subject).version for i in box.items if i.kind in DECISIONS}
    return box, versions


@router.get("/", response_class=HTMLResponse)
def home(request: Request, who: Who) -> HTMLResponse:
    box, versions = read(request, who, awaiting)
    return render(request, who, "home.html", {"inbox": box, "versions": versions})
