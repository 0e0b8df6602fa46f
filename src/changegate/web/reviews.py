"""Reviews: the ISO previews a quarter's metrics, then signs exactly what was read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from changegate.domain.periods import previous_quarter, quarter_of
from changegate.services import reviews
from changegate.services.views import reviews as views
from changegate.web.pages import Viewer, act, done, read, render, require, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
Quarter = Annotated[str, Path(pattern=r"^\d{4}-[Qq][1-4]$")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
PAGE = 50


@router.get("/reviews", response_class=HTMLResponse)
def review_list(request: Request, who: Who, offset: Offset = 0) -> HTMLResponse:
    page = read(request, who, lambda ctx: views.page(ctx, [], PAGE, offset))
    last = read(request, who, lambda ctx: previous_quarter(quarter_of(ctx.now)))
    context = {"page": page, "args": {}, "last_quarter": last}
    return render(request, who, "reviews.html", context)


@router.get("/reviews/quarterly/{quarter}", response_class=HTMLResponse)
def preview(request: Request, who: Who, quarter: Quarter) -> HTMLResponse:
    # The API lets the ISO, admins and auditors preview; others get its 403 here too.
    require(who, "preview-metrics")
    out = read(request, who, lambda ctx: reviews.preview_quarter(ctx, quarter))
    return render(request, who, "review_preview.html", {"p": out})


@router.post("/reviews/quarterly/{quarter}")
def sign(
    request: Request,
    who: Who,
    quarter: Quarter,
    csrf_token: Annotated[str, Form(max_length=200)],
    sha256: Annotated[str, Form(pattern=r"^[0-9a-fA-F]{64}$")],
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    signed = act(
        request,
        who,
        "sign-metrics",
        csrf_token,
        lambda ctx: reviews.review_quarter(ctx, quarter, notes, sha256).id,
    )
    return done(f"/reviews/{signed}")


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review(
    request: Request, who: Who, review_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> HTMLResponse:
    out = read(request, who, lambda ctx: views.show(ctx, review_id))
    return render(request, who, "review.html", {"r": out})
