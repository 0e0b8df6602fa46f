"""Changes: the searchable list, one change's whole record, and approving it on the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.db.change_pages import Search
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.changes import ChangeStatus, ChangeType, Risk
from changegate.services import approvals, lifecycle
from changegate.services.views import change_record
from changegate.web.pages import Viewer, act, done, local, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
PAGE = 50
Text = Annotated[str, Query(max_length=200)]


@router.get("/changes", response_class=HTMLResponse)
def changes(
    request: Request,
    who: Who,
    q: Text = "",
    status: ChangeStatus | None = None,
    type: ChangeType | None = None,
    risk: Risk | None = None,
    service: Text = "",
    requester: Text = "",
    period: Annotated[str, Query(max_length=7, pattern=r"^(\d{4}-[Qq][1-4])?$")] = "",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> HTMLResponse:
    search = Search(
        text=q.strip(),
        status=status.value if status else "",
        type=type.value if type else "",
        risk=risk.value if risk else "",
        service=service.strip(),
        requester=requester.strip(),
    )
    page = read(request, who, lambda ctx: change_record.search(ctx, search, period, PAGE, offset))
    args = {
        "q": q,
        "status": status and status.value,
        "type": type and type.value,
        "risk": risk and risk.value,
        "service": service,
        "requester": requester,
        "period": period,
    }
    choices = {"status": list(ChangeStatus), "type": list(ChangeType), "risk": list(Risk)}
    return render(request, who, "changes.html", {"page": page, "args": args, "choices": choices})


@router.get("/changes/{key}", response_class=HTMLResponse)
def change(request: Request, who: Who, key: str) -> HTMLResponse:
    out = read(request, who, lambda ctx: change_record.record(ctx, key))
    return render(request, who, "change.html", {"r": out, "roles": list(ApprovalRole)})


@router.post("/changes/{key}/decision")
def decide(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Annotated[str, Form(max_length=200)],
    role: Annotated[ApprovalRole, Form()],
    decision: Annotated[Decision, Form()],
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    comment: Annotated[str, Form(max_length=20_000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    act(
        request,
        who,
        "approve-change",
        csrf_token,
        lambda ctx: approvals.decide(ctx, key, role, decision, version, comment),
    )
    return done(local(next) or f"/changes/{key.upper()}")


@router.post("/changes/{key}/pir")
def record_pir(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Annotated[str, Form(max_length=200)],
    summary: Annotated[str, Form(min_length=1, max_length=20_000)],
) -> RedirectResponse:
    act(
        request,
        who,
        "record-pir",
        csrf_token,
        lambda ctx: lifecycle.record_pir(ctx, key, summary),
    )
    return done(f"/changes/{key.upper()}")
