"""Change calendar: planned windows and freeze windows by week, conflicts highlighted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from changegate.services.views.calendar import calendar, days
from changegate.web.pages import Viewer, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


@router.get("/calendar", response_class=HTMLResponse)
def page(
    request: Request,
    who: Who,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    # By default four weeks from this week's Monday (the API's and the CLI's default too).
    out = read(request, who, lambda ctx: calendar(ctx, *days(ctx, first, last)))
    start, end = out.first, out.last
    span = end - start + timedelta(days=1)
    context = {
        "c": out,
        "earlier": (start - span, start - timedelta(days=1)),
        "later": (end + timedelta(days=1), end + span),
    }
    return render(request, who, "calendar.html", context)
