"""CAB meetings: call one (the service builds the agenda), mark yourself present, decide each
agenda item, write the minutes, close it, and print its minutes.

Every action is `changegate cab meeting ...` and `/api/v1/cab/meetings` in a form: the same
use cases (services/cab.py), the same roles (the API operation's, see access.py) and so the
same messages, SoD, quorum and version binding included.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.domain.approvals import ApprovalRole
from changegate.domain.cab import MINUTES_MAX, REASON_MAX, TITLE_MAX, Outcome
from changegate.services import cab
from changegate.services.views import cab as views
from changegate.web.pages import Viewer, act, done, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
MeetingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
PAGE = 50
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@router.get("/cab", response_class=HTMLResponse)
def meetings(request: Request, who: Who, offset: Offset = 0) -> HTMLResponse:
    page = read(request, who, lambda ctx: views.page(ctx, PAGE, offset))
    return render(request, who, "cab.html", {"page": page, "args": {}})


@router.post("/cab")
def create(
    request: Request,
    who: Who,
    csrf_token: Csrf,
    held_at: Annotated[datetime, Form()],
    title: Annotated[str, Form(max_length=TITLE_MAX)] = "",
) -> RedirectResponse:
    # The form's field is a datetime-local labelled UTC; an explicit offset is kept as given.
    at = held_at if held_at.tzinfo else held_at.replace(tzinfo=UTC)
    made = act(
        request,
        who,
        "create-meeting",
        csrf_token,
        lambda ctx: cab.create_meeting(ctx, at, title).id,
    )
    return done(f"/cab/{made}")


@router.get("/cab/{meeting_id}", response_class=HTMLResponse)
def meeting(request: Request, who: Who, meeting_id: MeetingId) -> HTMLResponse:
    out = read(request, who, lambda ctx: views.show(ctx, meeting_id))
    present = any(a.email == who.email for a in out.attendance)
    mine = [r.value for r in ApprovalRole if r.value in who.roles]
    context = {"m": out, "present": present, "my_roles": mine, "minutes_max": MINUTES_MAX}
    return render(request, who, "meeting.html", context)


@router.post("/cab/{meeting_id}/attendance")
def attend(request: Request, who: Who, meeting_id: MeetingId, csrf_token: Csrf) -> RedirectResponse:
    act(request, who, "attend-meeting", csrf_token, lambda ctx: cab.attend(ctx, meeting_id))
    return done(f"/cab/{meeting_id}")


@router.post("/cab/{meeting_id}/decisions")
def decide(
    request: Request,
    who: Who,
    meeting_id: MeetingId,
    csrf_token: Csrf,
    change: Annotated[str, Form(min_length=1, max_length=40)],
    outcome: Annotated[Outcome, Form()],
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
    role: Annotated[ApprovalRole | None, Form()] = None,
) -> RedirectResponse:
    act(
        request,
        who,
        "decide-item",
        csrf_token,
        lambda ctx: cab.decide_item(ctx, meeting_id, change, outcome, version, reason, role),
    )
    return done(f"/cab/{meeting_id}#item-{change.strip().upper()}")


@router.post("/cab/{meeting_id}/minutes")
def minutes(
    request: Request,
    who: Who,
    meeting_id: MeetingId,
    csrf_token: Csrf,
    text: Annotated[str, Form(max_length=MINUTES_MAX)] = "",
) -> RedirectResponse:
    # Browsers send a textarea's line breaks as CRLF (HTML's form encoding); keep the text's.
    written = text.replace("\r\n", "\n")
    act(
        request,
        who,
        "edit-minutes",
        csrf_token,
        lambda ctx: cab.edit_minutes(ctx, meeting_id, written),
    )
    return done(f"/cab/{meeting_id}#minutes")


@router.post("/cab/{meeting_id}/close")
def close(request: Request, who: Who, meeting_id: MeetingId, csrf_token: Csrf) -> RedirectResponse:
    act(request, who, "close-meeting", csrf_token, lambda ctx: cab.close_meeting(ctx, meeting_id))
    return done(f"/cab/{meeting_id}")


@router.get("/cab/{meeting_id}/minutes", response_class=HTMLResponse)
def minutes_html(request: Request, who: Who, meeting_id: MeetingId) -> HTMLResponse:
    """The printable minutes (services/cab_minutes.py), under a policy that admits only the
    document's own style block (by its hash) and nothing else."""
    document = read(request, who, lambda ctx: cab.minutes_html(ctx.session, meeting_id))
    styles = " ".join(f"'sha256-{_digest(s)}'" for s in STYLE.findall(document)) or "'none'"
    policy = f"default-src 'none'; style-src {styles}; base-uri 'none'; "
    policy += "form-action 'none'; frame-ancestors 'none'"
    return HTMLResponse(document, headers={"Content-Security-Policy": policy})


@router.get("/cab/{meeting_id}/minutes.pdf")
def minutes_pdf(request: Request, who: Who, meeting_id: MeetingId) -> Response:
    _, pdf = read(request, who, lambda ctx: cab.minutes_document(ctx.session, meeting_id))
    headers = {"Content-Disposition": f'inline; filename="cab-meeting-{meeting_id}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
