"""Waivers (EXC-1): the list, one waiver, requesting one, deciding on one, reviewing it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.domain.approvals import ApprovalRole, Decision
from changegate.domain.waivers import ScopeKind, WaiverStatus
from changegate.services import waiver_reviews, waivers
from changegate.services.views import waivers as views
from changegate.services.waiver_reviews import Outcome
from changegate.web.pages import Viewer, act, done, local, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
Csrf = Annotated[str, Form(max_length=200)]
PAGE = 50
MAX_DAYS = 3650


@router.get("/waivers", response_class=HTMLResponse)
def waiver_list(
    request: Request,
    who: Who,
    status: WaiverStatus | None = None,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> HTMLResponse:
    page = read(request, who, lambda ctx: views.page(ctx, status, PAGE, offset))
    context = {
        "page": page,
        "args": {"status": status and status.value},
        "statuses": list(WaiverStatus),
        "scopes": list(ScopeKind),
    }
    return render(request, who, "waivers.html", context)


@router.get("/waivers/{key}", response_class=HTMLResponse)
def waiver(request: Request, who: Who, key: str) -> HTMLResponse:
    out = read(request, who, lambda ctx: views.show(ctx, key))
    return render(request, who, "waiver.html", {"w": out, "roles": list(ApprovalRole)})


@router.post("/waivers")
def request_waiver(
    request: Request,
    who: Who,
    csrf_token: Csrf,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    justification: Annotated[str, Form(min_length=1, max_length=20_000)],
    compensating_controls: Annotated[str, Form(min_length=1, max_length=20_000)],
    controls: Annotated[str, Form(min_length=1, max_length=500)],
    scope_kind: Annotated[ScopeKind, Form()],
    scope_value: Annotated[str, Form(min_length=1, max_length=500)],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)],
) -> RedirectResponse:
    wanted = [c.strip().upper() for c in controls.replace(",", " ").split() if c.strip()]
    made = act(
        request,
        who,
        "request-waiver",
        csrf_token,
        lambda ctx: (
            waivers.request(
                ctx,
                title,
                justification,
                compensating_controls,
                wanted,
                scope_kind.value,
                scope_value,
                days,
            ).key
        ),
    )
    return done(f"/waivers/{made}")


@router.post("/waivers/{key}/decision")
def decide(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Csrf,
    role: Annotated[ApprovalRole, Form()],
    decision: Annotated[Decision, Form()],
    comment: Annotated[str, Form(max_length=20_000)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    act(
        request,
        who,
        "approve-waiver",
        csrf_token,
        lambda ctx: waivers.decide(ctx, key, role, decision, comment),
    )
    return done(local(next) or f"/waivers/{key.upper()}")


@router.post("/waivers/{key}/review")
def review_waiver(
    request: Request,
    who: Who,
    key: str,
    csrf_token: Csrf,
    outcome: Annotated[Outcome, Form()],
    notes: Annotated[str, Form(min_length=1, max_length=20_000)],
    days: Annotated[int | None, Form(ge=1, le=MAX_DAYS)] = None,
) -> RedirectResponse:
    act(
        request,
        who,
        "review-waiver",
        csrf_token,
        lambda ctx: waiver_reviews.review(ctx, key, outcome.value, notes, days),
    )
    return done(f"/waivers/{key.upper()}")
