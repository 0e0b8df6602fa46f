"""CM-6: a quarter's change-management metrics, computed once for the quarterly review the ISO
signs (`reviews.metrics`) and the dashboard (`views.dashboard`), so the two cannot disagree.

The database counts (`db.metrics`, `db.audit_records.Metrics`); the domain turns counts into
shares, hours and the DORA keys (`domain.dashboard`, `domain.dora`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from changegate.db.audit_records import Metrics
from changegate.db.metrics import COUNTS, DayCounts, MetricRecords
from changegate.db.models import Change
from changegate.domain import dora
from changegate.domain.dashboard import EXPIRING_DAYS, bucket_counts, hours, percent
from changegate.domain.periods import quarter_bounds, quarter_of
from changegate.services.context import Context
from changegate.services.views.metrics import (
    DeploymentControls,
    DriftMetrics,
    EmergencyMetrics,
    GateCounts,
    QuarterMetricsOut,
    WaiverMetrics,
)


def production_environments(ctx: Context) -> list[str]:
    return [e.name for e in ctx.policy.environments if e.production]


def as_of(ctx: Context, end: datetime) -> datetime:
    """The instant a quarter's open things are counted at: its end, or now while it runs (so
    an ended quarter's report does not move with the clock, and can be previewed and signed)."""
    return min(ctx.now, end)


def quarter(ctx: Context, name: str) -> QuarterMetricsOut:
    """The metrics of quarter `name` ("2026-Q3", either case); BadInput for anything else."""
    return measured(ctx, name)[0]


def measured(ctx: Context, name: str) -> tuple[QuarterMetricsOut, list[DayCounts]]:
    """The metrics of quarter `name`, and the per-day production deployment counts they were
    summed from (the dashboard charts them by week)."""
    start, end = quarter_bounds(name)
    at = as_of(ctx, end)
    records, envs = MetricRecords(ctx.session), production_environments(ctx)
    m = Metrics(ctx.session)
    decisions = m.gate_decisions(start, end)
    days = records.production_days(envs, start, end)
    total = {f: sum(getattr(d, f) for d in days) for f in COUNTS}
    out = QuarterMetricsOut(
        quarter=quarter_of(start),
        as_of=at.isoformat(),
        changes_by_type=m.changes_by(Change.change_type, start, end),
        changes_by_status=m.changes_by(Change.status, start, end),
        deployments_by_environment=m.deployments_by_environment(start, end),
        gate=GateCounts(
            allowed=decisions.get("True", 0) + decisions.get("1", 0),
            denied=decisions.get("False", 0) + decisions.get("0", 0),
        ),
        emergencies=_emergencies(records, start, end),
        production_deployments=_controls(total),
        drift=_drift(ctx, records, start, end, at),
        findings_by_control=m.findings_by_control(start, end),
        findings_open_by_age=bucket_counts(records.open_findings_by_age(at)),
        waivers=_waivers(records, at),
        dora=_dora(records, envs, start, end, total),
    )
    return out, days


def _emergencies(records: MetricRecords, start: datetime, end: datetime) -> EmergencyMetrics:
    changes, emergencies, pir, retro = records.emergencies(start, end)
    return EmergencyMetrics(
        implemented=emergencies,
        pir_on_time=pir,
        retro_approval_on_time=retro,
        changes_implemented=changes,
        share_percent=percent(emergencies, changes),
        pir_on_time_percent=percent(pir, emergencies),
        retro_approval_on_time_percent=percent(retro, emergencies),
    )


def _controls(total: dict[str, int]) -> DeploymentControls:
    deployments, approved, tested = total["deployments"], total["approved"], total["tested"]
    return DeploymentControls(
        deployments=deployments,
        approved_before=approved,
        approved_before_percent=percent(approved, deployments),
        tested_before=tested,
        tested_before_percent=percent(tested, deployments),
    )


def _drift(
    ctx: Context, records: MetricRecords, start: datetime, end: datetime, at: datetime
) -> DriftMetrics:
    detected, closed, unauthorised, settled = records.drift(start, end, at)
    target = ctx.policy.drift.remediation_hours
    times, within = records.remediation(start, end, at, timedelta(hours=target))
    return DriftMetrics(
        detected=detected,
        open=detected - closed,
        closed=closed,
        unauthorised=unauthorised,
        settled=settled,
        target_hours=target,
        remediated=times.count,
        remediated_within_target=within,
        within_percent=percent(within, settled),
        remediation_hours_median=hours(times.median),
        remediation_hours_p90=hours(times.p90),
    )


def _waivers(records: MetricRecords, at: datetime) -> WaiverMetrics:
    active, expiring = records.waivers(at, timedelta(days=EXPIRING_DAYS))
    return WaiverMetrics(active=active, expiring=expiring, expiring_days=EXPIRING_DAYS)


def _dora(
    records: MetricRecords,
    envs: list[str],
    start: datetime,
    end: datetime,
    total: dict[str, int],
) -> dora.DoraKeys:
    return dora.keys(
        dora.DoraInputs(
            start=start,
            end=end,
            deployments=total["reached"],
            finished=total["finished"],
            failed=total["failed"],
            lead=records.lead_times(envs, start, end),
            restore=records.restore_times(envs, start, end),
        )
    )
