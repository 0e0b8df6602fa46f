"""/api/v1/calendar: planned change windows and freeze windows by week, with conflicts;
every role reads it. The range is local days in the policy's time zone, at most 92 of them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.domain.errors import BadInput
from changegate.services.context import Context
from changegate.services.views.calendar import CalendarOut, calendar

router = APIRouter(prefix="/api/v1", tags=["calendar"])
DEFAULT_DAYS = 28
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
    return who.read(lambda ctx: calendar(ctx, *_range(ctx, first, last)))


def _range(ctx: Context, first: date | None, last: date | None) -> tuple[date, date]:
    if first is None:
        today = _today(ctx.now, ctx.policy.timezone)
        first = today - timedelta(days=today.weekday())
    if last is None:
        last = first + timedelta(days=DEFAULT_DAYS - 1)
    if first.year < 1970 or last.year > 9998:
        raise BadInput("from and to must be between 1970 and 9998")
    return first, last


def _today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()
