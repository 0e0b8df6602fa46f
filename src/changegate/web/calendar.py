"""Change calendar: planned windows and freeze windows by week, conflicts highlighted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from changegate.services.views.calendar import calendar
from changegate.web.pages import Viewer, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
SHOWN = timedelta(weeks=6)


@router.get("/calendar", response_class=HTMLResponse)
def page(
    request: Request,
    who: Who,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    # By default six weeks from this week's Monday (in UTC: the service counts local days).
    today = read(request, who, lambda ctx: ctx.now.date())
    start = first or today - timedelta(days=today.weekday())
    end = last or start + SHOWN - timedelta(days=1)
    out = read(request, who, lambda ctx: calendar(ctx, start, end))
    span = end - start + timedelta(days=1)
    context = {
        "c": out,
        "earlier": (start - span, start - timedelta(days=1)),
        "later": (end + timedelta(days=1), end + span),
    }
    return render(request, who, "calendar.html", context)
