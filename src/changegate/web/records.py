"""Drift and findings: the lists, one finding, and the ISO's and HR's decisions on it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.domain.drift import DriftStatus
from changegate.domain.findings import DisciplinaryKind, FindingStatus
from changegate.services import findings
from changegate.services.views import audits
from changegate.services.views import configuration as config_views
from changegate.web import waivers
from changegate.web.pages import Viewer, act, done, local, read, render, viewer

router = APIRouter(include_in_schema=False)
router.include_router(waivers.router)
Who = Annotated[Viewer, Depends(viewer)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]
Next = Annotated[str, Form(max_length=500)]
PAGE = 50


@router.get("/drift", response_class=HTMLResponse)
def drift(
    request: Request, who: Who, status: DriftStatus | None = None, offset: Offset = 0
) -> HTMLResponse:
    page = read(request, who, lambda ctx: config_views.drifts(ctx, status, PAGE, offset))
    args = {"status": status and status.value}
    return render(
        request, who, "drift.html", {"page": page, "args": args, "statuses": list(DriftStatus)}
    )


@router.get("/findings", response_class=HTMLResponse)
def findings_list(
    request: Request,
    who: Who,
    status: FindingStatus | None = None,
    control: Annotated[str, Query(max_length=20)] = "",
    offset: Offset = 0,
) -> HTMLResponse:
    page = read(
        request,
        who,
        lambda ctx: audits.finding_page(ctx, status, control or None, PAGE, offset),
    )
    args = {"status": status and status.value, "control": control}
    context = {"page": page, "args": args, "statuses": list(FindingStatus)}
    return render(request, who, "findings.html", context)


@router.get("/findings/{key}", response_class=HTMLResponse)
def finding(request: Request, who: Who, key: str) -> HTMLResponse:
    out = read(request, who, lambda ctx: audits.show_finding(ctx, key))
    kinds = list(DisciplinaryKind)
    return render(request, who, "finding.html", {"f": out, "kinds": kinds})


@router.post("/findings/{key}/confirm")
def confirm(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Csrf,
    comment: Annotated[str, Form(max_length=4000)] = "",
    next: Next = "",
) -> RedirectResponse:
    act(
        request, who, "confirm-finding", csrf_token, lambda ctx: findings.confirm(ctx, key, comment)
    )
    return done(local(next) or f"/findings/{key.upper()}")


@router.post("/findings/{key}/dismiss")
def dismiss(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Csrf,
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
) -> RedirectResponse:
    act(request, who, "dismiss-finding", csrf_token, lambda ctx: findings.dismiss(ctx, key, reason))
    return done(f"/findings/{key.upper()}")


@router.post("/findings/{key}/discipline")
def discipline(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Csrf,
    person: Annotated[str, Form(min_length=3, max_length=320)],
    action: Annotated[DisciplinaryKind, Form()],
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    act(
        request,
        who,
        "discipline",
        csrf_token,
        lambda ctx: findings.discipline(ctx, key, person, action, notes),
    )
    return done(f"/findings/{key.upper()}")
