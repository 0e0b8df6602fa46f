"""Dashboard (CM-6): a quarter's figures, the very ones its quarterly review signs."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from changegate.domain.periods import previous_quarter, quarter_bounds, quarter_of
from changegate.services.views.dashboard import DashboardOut, dashboard
from changegate.web.pages import Viewer, read, render, viewer

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
Quarter = Annotated[str, Query(pattern=r"^(\d{4}-[Qq][1-4])?$")]


def charts(d: DashboardOut) -> dict[str, str]:
    """Chart data as JSON for data attributes (static/charts.js draws them; no inline script)."""
    weeks = d.deployments_by_week
    return {
        "weeks": json.dumps(
            {
                "labels": [w.week for w in weeks],
                "series": {
                    "Deployments": [w.deployments for w in weeks],
                    "Failed or rolled back": [w.failures for w in weeks],
                },
            }
        ),
        "controls": json.dumps(
            {
                "labels": [p.label for p in d.findings_by_control],
                "series": {"Findings": [p.count for p in d.findings_by_control]},
            }
        ),
        "ages": json.dumps(
            {
                "labels": [p.label for p in d.findings_open_by_age],
                "series": {"Open findings": [p.count for p in d.findings_open_by_age]},
            }
        ),
    }


def _next(quarter: str) -> str:
    return quarter_of(quarter_bounds(quarter)[1])


@router.get("/dashboard", response_class=HTMLResponse)
def page(request: Request, who: Who, quarter: Quarter = "") -> HTMLResponse:
    # By default the last ended quarter: the one the ISO reviews and signs (CM-6).
    wanted = quarter or read(request, who, lambda ctx: previous_quarter(quarter_of(ctx.now)))
    out = read(request, who, lambda ctx: dashboard(ctx, wanted))
    context = {
        "d": out,
        "charts": charts(out),
        "previous": previous_quarter(out.quarter),
        "next": _next(out.quarter),
    }
    return render(request, who, "dashboard.html", context)
