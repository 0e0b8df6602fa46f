"""/api/v1/dashboard: a quarter's CM-6 metrics (the figures its quarterly review signs), with
headline tiles and series to chart; every role reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from changegate.api.access import EVERYONE, CallerDep, allow
from changegate.domain.periods import quarter_of
from changegate.services.views.dashboard import DashboardOut, dashboard

router = APIRouter(prefix="/api/v1", tags=["dashboard"])
Quarter = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-[Qq][1-4]$",
        examples=["2026-Q4"],
        description="The quarter (default: the one running now)",
    ),
]


@router.get(
    "/dashboard",
    openapi_extra=allow(EVERYONE),
    summary="A quarter's change-management metrics (CM-6) as the quarterly review signs them",
)
def show(who: CallerDep, quarter: Quarter = None) -> DashboardOut:
    return who.read(lambda ctx: dashboard(ctx, quarter or quarter_of(ctx.now)))
