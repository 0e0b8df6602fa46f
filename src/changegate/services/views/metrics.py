"""The CM-6 metrics of a quarter: what the ISO's quarterly review signs and the dashboard shows.

One model, filled by one function (`services.metrics.quarter`); the review stores its JSON
(`model_dump(mode="json")`), so a figure on the dashboard is the figure in the signed report.
Percentages are 0-100 with one decimal, null when their population is empty; durations are
hours with two decimals, nearest-rank percentiles (`domain.dashboard.rank`).
"""

from __future__ import annotations

from changegate.domain.dora import DoraKeys
from changegate.services.views.common import Out


class GateCounts(Out):
    """Gate decisions taken in the quarter, any environment."""

    allowed: int
    denied: int


class EmergencyMetrics(Out):
    """Changes implemented in the quarter; `implemented` counts the emergencies among them
    (CM-3), and their PIRs and retroactive approvals recorded by their deadlines."""

    implemented: int
    pir_on_time: int
    retro_approval_on_time: int
    changes_implemented: int
    share_percent: float | None
    pir_on_time_percent: float | None
    retro_approval_on_time_percent: float | None


class DeploymentControls(Out):
    """Production deployments (kind `deploy`) started in the quarter: approved before they
    started (the change's last approval, `approved_at`, at or before the start: CM-2) and
    tested before (a passing run in an isolated environment for the same change and commit,
    recorded at or before the start: CM-4)."""

    deployments: int
    approved_before: int
    approved_before_percent: float | None
    tested_before: int
    tested_before_percent: float | None


class DriftMetrics(Out):
    """Drift detected in the quarter (CFG-4): open or closed as of `as_of`; `unauthorised` is
    the drift with a remediation deadline. Time to remediate is over the unauthorised drift
    closed by `as_of`; `within_percent` is the share closed within `target_hours` (the
    policy's clock) of the unauthorised drift `settled` by `as_of`: closed, or open past its
    deadline (drift still inside its 48 hours has no outcome yet)."""

    detected: int
    open: int
    closed: int
    unauthorised: int
    settled: int
    target_hours: int
    remediated: int
    remediated_within_target: int
    within_percent: float | None
    remediation_hours_median: float | None
    remediation_hours_p90: float | None


class WaiverMetrics(Out):
    """Waivers in force at `as_of` (EXC-1), and those of them ending within `expiring_days`."""

    active: int
    expiring: int
    expiring_days: int


class QuarterMetricsOut(Out):
    """A quarter's CM-6 metrics. Counts by type and status are of changes created in the
    quarter (their status now); `as_of` is the quarter's end, or the moment of reading while
    it runs: the instant open drift, open findings and waivers in force are taken at.
    `findings_by_control` counts findings (not suppressed) that occurred in the quarter;
    `findings_open_by_age` counts every finding open at `as_of`, by days since detection."""

    quarter: str
    as_of: str
    changes_by_type: dict[str, int]
    changes_by_status: dict[str, int]
    deployments_by_environment: dict[str, int]
    gate: GateCounts
    emergencies: EmergencyMetrics
    production_deployments: DeploymentControls
    drift: DriftMetrics
    findings_by_control: dict[str, int]
    findings_open_by_age: dict[str, int]
    waivers: WaiverMetrics
    dora: DoraKeys  # the domain's own record: definitions in `changegate.domain.dora`
