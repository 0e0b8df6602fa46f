"""The CM-6 dashboard of a quarter: the metrics the quarterly review signs (the same model,
from the same function), headline tiles, and series a page can chart.

`dashboard(ctx, "2026-Q3")` is what `GET /api/v1/dashboard?quarter=2026-Q3`, the web page and
`changegate dashboard --quarter 2026-Q3` show.
"""

from __future__ import annotations

from typing import Literal

from changegate.db.metrics import DayCounts
from changegate.domain.dashboard import weekly
from changegate.domain.periods import quarter_bounds
from changegate.services import metrics
from changegate.services.context import Context
from changegate.services.views.common import Out
from changegate.services.views.metrics import QuarterMetricsOut

Unit = Literal["percent", "hours", "per_week", "count"]


class Tile(Out):
    """One headline figure. `value` is null when its population is empty (no rate, not 0);
    `target` is the policy's bar where it sets one (e.g. 48 hours for drift), else null;
    `metric` is the path of the figure in `metrics` ("dora.lead_time_hours_median")."""

    metric: str
    label: str
    value: float | None
    unit: Unit
    target: float | None = None


class WeekPoint(Out):
    """Production deployments (kind `deploy`) started in one ISO week (UTC, "2026-W27"):
    those that reached production and those that failed or were rolled back."""

    week: str
    deployments: int
    failures: int


class CountPoint(Out):
    label: str
    count: int


class DashboardOut(Out):
    """`metrics` is exactly what the quarterly review of `quarter` signs (CM-6); `tiles`,
    `deployments_by_week`, `findings_by_control` and `findings_open_by_age` are read from it
    or from the same records, ready to chart (every week and every age bucket present)."""

    quarter: str
    metrics: QuarterMetricsOut
    tiles: list[Tile]
    deployments_by_week: list[WeekPoint]
    findings_by_control: list[CountPoint]
    findings_open_by_age: list[CountPoint]


def dashboard(ctx: Context, quarter: str) -> DashboardOut:
    """The dashboard of `quarter` ("2026-Q3", either case); BadInput for anything else.
    Everyone who reads changes reads it."""
    m, days = metrics.measured(ctx, quarter)
    return DashboardOut(
        quarter=m.quarter,
        metrics=m,
        tiles=tiles(m),
        deployments_by_week=_weeks(days, m.quarter),
        findings_by_control=[
            CountPoint(label=k, count=v) for k, v in sorted(m.findings_by_control.items())
        ],
        findings_open_by_age=[
            CountPoint(label=k, count=v) for k, v in m.findings_open_by_age.items()
        ],
    )


def tiles(m: QuarterMetricsOut) -> list[Tile]:
    """The headline figures, in the order the issue lists them."""
    e, p, d, w, k = m.emergencies, m.production_deployments, m.drift, m.waivers, m.dora
    rows: list[tuple[str, str, float | None, Unit, float | None]] = [
        ("production_deployments.approved_before_percent", "Approved before deploy",
         p.approved_before_percent, "percent", 100.0),
        ("production_deployments.tested_before_percent", "Tested before deploy",
         p.tested_before_percent, "percent", 100.0),
        ("emergencies.share_percent", "Emergency share", e.share_percent, "percent", None),
        ("emergencies.pir_on_time_percent", "PIR on time", e.pir_on_time_percent, "percent",
         100.0),
        ("emergencies.retro_approval_on_time_percent", "Retro approval on time",
         e.retro_approval_on_time_percent, "percent", 100.0),
        ("drift.open", "Drift open", d.open, "count", None),
        ("drift.closed", "Drift closed", d.closed, "count", None),
        ("drift.remediation_hours_median", "Drift time to remediate (median)",
         d.remediation_hours_median, "hours", float(d.target_hours)),
        ("drift.remediation_hours_p90", "Drift time to remediate (p90)",
         d.remediation_hours_p90, "hours", float(d.target_hours)),
        ("drift.within_percent", f"Drift remediated within {d.target_hours} h",
         d.within_percent, "percent", 100.0),
        ("waivers.active", "Waivers active", w.active, "count", None),
        ("waivers.expiring", f"Waivers expiring within {w.expiring_days} days", w.expiring,
         "count", None),
        ("dora.deployments_per_week", "Deployment frequency", k.deployments_per_week,
         "per_week", None),
        ("dora.lead_time_hours_median", "Lead time for changes (median, from submission)",
         k.lead_time_hours_median, "hours", None),
        ("dora.change_failure_rate_percent", "Change failure rate",
         k.change_failure_rate_percent, "percent", None),
        ("dora.time_to_restore_hours_median", "Time to restore (median)",
         k.time_to_restore_hours_median, "hours", None),
    ]  # fmt: skip
    return [
        Tile(metric=path, label=label, value=value, unit=unit, target=target)
        for path, label, value, unit, target in rows
    ]


def _weeks(days: list[DayCounts], quarter: str) -> list[WeekPoint]:
    start, end = quarter_bounds(quarter)
    reached = weekly({d.day: d.reached for d in days}, start, end)
    failed = weekly({d.day: d.failed for d in days}, start, end)
    return [WeekPoint(week=w, deployments=n, failures=failed[w]) for w, n in reached.items()]
