"""/api/v1/calendar: planned change windows and freeze windows by week, with conflicts;
every role reads it. The range is local days in the policy's time zone, at most 92 of them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.services.views.calendar import CalendarOut, calendar, days

router = APIRouter(prefix="/api/v1", tags=["calendar"])
From = Annotated[
    date | None,
    Query(alias="from", description="First local day (default: this week's Monday)"),
]
To = Annotated[
    date | None,
    Query(alias="to", description="Last local day, included (default: four weeks on)"),
]


@router.get(
    "/calendar",
    openapi_extra=allow(EVERYONE),
    summary="Planned change windows and freeze windows by ISO week, with their conflicts",
)
def show(who: CallerDep, first: From = None, last: To = None) -> CalendarOut:
    return who.read(lambda ctx: calendar(ctx, *days(ctx, first, last)))
