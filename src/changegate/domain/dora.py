"""The four DORA keys, as changegate can measure them from its own records.

Definitions (each over production environments, i.e. the policy's `production: true` ones, and
deployments of kind `deploy`; rollbacks are how a failure is undone, not deployments):

- **Deployment frequency**: production deployments started in the period that reached
  production (status `succeeded`, or `rolled_back`: it ran, then was undone), per 7 days.
- **Lead time for changes**: from the change's *submission* (`submitted_at`) to the start of
  its first production deployment, for changes whose first production deployment started in
  the period. Submission, not first commit: changegate records commits by SHA only, never
  their author dates, and submission is the first instant of a change its records hold
  authoritatively (creation would count drafting time someone left idle). It therefore
  measures the controlled path: approval, staging evidence, the gate, the deployment.
- **Change failure rate**: of the production deployments started in the period that have
  finished (any status but `started`), the share that failed: status `failed`, or
  `rolled_back` (a rollback deployment names it). changegate holds no incident records, so
  incidents count only when they led to one of those two.
- **Time to restore**: for each failed deployment above, from its start to the end of the
  first later successful production deployment (a rollback, or a fixed deploy) of the same
  change to the same environment; median over those restored. Failures not yet restored are
  counted, not timed.

The database picks the counts and the percentile values; `keys` only shapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from changegate.domain.dashboard import hours, per_week, percent

LEAD_TIME_FROM: Final = "submission"


@dataclass(frozen=True)
class Duration:
    """How many values, and their nearest-rank median and 90th percentile, in seconds."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class DoraInputs:
    start: datetime
    end: datetime
    deployments: int  # reached production (succeeded or rolled back), started in the period
    finished: int  # started in the period and no longer `started`
    failed: int  # of `finished`: failed or rolled back
    lead: Duration  # submission -> first production deployment, seconds
    restore: Duration  # failed deployment start -> restoring deployment end, seconds


@dataclass(frozen=True)
class DoraKeys:
    deployments: int
    deployments_per_week: float
    lead_time_from: str
    lead_time_changes: int
    lead_time_hours_median: float | None
    lead_time_hours_p90: float | None
    change_failures: int
    finished_deployments: int
    change_failure_rate_percent: float | None
    restored: int
    unrestored: int
    time_to_restore_hours_median: float | None


def keys(given: DoraInputs) -> DoraKeys:
    """The four keys from the counts; ValueError if more failed or were restored than can."""
    if given.restore.count > given.failed:
        raise ValueError("more restorations than failures")
    return DoraKeys(
        deployments=given.deployments,
        deployments_per_week=per_week(given.deployments, given.start, given.end),
        lead_time_from=LEAD_TIME_FROM,
        lead_time_changes=given.lead.count,
        lead_time_hours_median=hours(given.lead.median),
        lead_time_hours_p90=hours(given.lead.p90),
        change_failures=given.failed,
        finished_deployments=given.finished,
        change_failure_rate_percent=percent(given.failed, given.finished),
        restored=given.restore.count,
        unrestored=given.failed - given.restore.count,
        time_to_restore_hours_median=hours(given.restore.median),
    )
