"""The aggregates behind the CM-6 metrics: SQL counts, sums and picked percentile values.

A year can hold 100,000 changes and their deployments, so every figure here is one or two
statements whose answer is a handful of rows: nothing loops over the records in Python.
Percentiles are nearest-rank (`domain.dashboard.rank`): count, then ORDER BY ... OFFSET k,
which SQLite and PostgreSQL both run the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, exists, func, literal, or_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.selectable import Subquery

from changegate.db.base import Repository
from changegate.db.engine import on_postgres
from changegate.db.models import Change, Deployment, Drift, Finding, TestRun, Waiver
from changegate.domain.dashboard import AGE_BUCKETS, rank
from changegate.domain.dora import Duration

# Deployments that reached production: a rolled-back one ran before it was undone.
REACHED = ("succeeded", "rolled_back")
FAILED = ("failed", "rolled_back")
# The percentiles picked, as integer ratios: the median and the 90th.
PICKS = ((1, 2), (9, 10))
RESOLVED_FINDING = {"dismissed": Finding.decided_at, "closed": Finding.remediated_at}


@dataclass(frozen=True)
class DayCounts:
    """Production deployments started on one UTC day: how many, approved before they started,
    tested before, reached production, finished, failed (definitions: `domain.dora`)."""

    day: date
    deployments: int
    approved: int
    tested: int
    reached: int
    finished: int
    failed: int


COUNTS = ("deployments", "approved", "tested", "reached", "finished", "failed")


class SecondsBetween(FunctionElement[float]):
    """`later - earlier` in seconds, as each database spells it."""

    type = Float()
    inherit_cache = True


@compiles(SecondsBetween, "sqlite")
def _seconds_sqlite(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    earlier, later = list(element.clauses)
    a, b = compiler.process(earlier, **kw), compiler.process(later, **kw)
    return f"((julianday({b}) - julianday({a})) * 86400.0)"


@compiles(SecondsBetween, "postgresql")
def _seconds_pg(element: SecondsBetween, compiler: Any, **kw: Any) -> str:
    earlier, later = list(element.clauses)
    a, b = compiler.process(earlier, **kw), compiler.process(later, **kw)
    return f"EXTRACT(EPOCH FROM ({b} - {a}))"


class UtcDay(FunctionElement[str]):
    """The UTC calendar day of an instant (ISO text on SQLite, a date on PostgreSQL)."""

    inherit_cache = True


@compiles(UtcDay, "sqlite")
def _day_sqlite(element: UtcDay, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(next(iter(element.clauses)), **kw)})"


@compiles(UtcDay, "postgresql")
def _day_pg(element: UtcDay, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(({column}) AT TIME ZONE 'UTC' AS DATE)"


def _between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _ones(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class MetricRecords(Repository):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        if on_postgres(session):
            # These aggregates are costed high enough to trigger PostgreSQL's JIT, whose
            # compilation took longer (over 100 ms each) than the queries it would speed up.
            session.execute(text("SET LOCAL jit = off"))

    def durations(self, values: Subquery) -> Duration:
        """Count, median and p90 of the one column `v` of `values` (nulls ignored), in one
        statement: the values are numbered in order once, and the two ranks picked by
        integer arithmetic (row k is the p = a/b percentile when b(k-1) < a n <= b k)."""
        v = values.c.v
        ranked = (
            select(
                v.label("v"),
                func.row_number().over(order_by=v).label("k"),
                func.count().over().label("n"),
            )
            .where(v.is_not(None))
            .subquery()
        )
        k, n = ranked.c.k, ranked.c.n
        picks = [and_(b * (k - 1) < a * n, a * n <= b * k) for a, b in PICKS]
        rows = self.session.execute(select(ranked.c.v, k, n).where(or_(*picks))).all()
        if not rows:
            return Duration()
        count = int(rows[0].n)
        at = {int(r.k): float(r.v) for r in rows}
        return Duration(count, at[rank(0.5, count) + 1], at[rank(0.9, count) + 1])

    def production(self, envs: Collection[str], start: datetime, end: datetime) -> Any:
        d = Deployment
        return and_(
            d.environment.in_(list(envs)), d.kind == "deploy", _between(d.started_at, start, end)
        )

    def emergencies(self, start: datetime, end: datetime) -> tuple[int, int, int, int]:
        """(changes implemented in the period, emergencies among them, their PIRs recorded by
        the deadline, their retroactive approvals by the deadline)."""
        c = Change
        pir = and_(c.pir_recorded_at.is_not(None), c.pir_recorded_at <= c.pir_due_at)
        retro = and_(c.retro_approved_at.is_not(None), c.retro_approved_at <= c.retro_due_at)
        emergency = c.change_type == "emergency"
        row = self.session.execute(
            select(
                func.count(),
                _ones(emergency),
                _ones(and_(emergency, pir)),
                _ones(and_(emergency, retro)),
            ).where(_between(c.implemented_at, start, end))
        ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def drift(self, start: datetime, end: datetime, as_of: datetime) -> tuple[int, int, int, int]:
        """(drift detected in the period, closed by `as_of`, unauthorised: with a deadline,
        unauthorised and settled by `as_of`: closed, or past its deadline)."""
        d = Drift
        closed = and_(d.closed_at.is_not(None), d.closed_at <= as_of)
        unauthorised = d.due_at.is_not(None)
        settled = and_(unauthorised, or_(closed, d.due_at <= as_of))
        row = self.session.execute(
            select(func.count(), _ones(closed), _ones(unauthorised), _ones(settled)).where(
                _between(d.detected_at, start, end)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def remediation(
        self, start: datetime, end: datetime, as_of: datetime, within: timedelta
    ) -> tuple[Duration, int]:
        """Unauthorised drift detected in the period and closed by `as_of`: its time to
        remediate (seconds), and how many closed within `within`."""
        d = Drift
        where = and_(
            _between(d.detected_at, start, end),
            d.due_at.is_not(None),
            d.closed_at.is_not(None),
            d.closed_at <= as_of,
        )
        seconds = d.remediation_seconds
        values = select(seconds.label("v")).where(where).subquery()
        inside = self.session.execute(
            select(func.count()).where(where, seconds <= within.total_seconds())
        ).scalar_one()
        return self.durations(values), int(inside)

    def open_findings_by_age(self, as_of: datetime) -> dict[str, int]:
        """Findings detected by `as_of` and not resolved by then (suppressed ones aside),
        counted by the age bucket of `as_of - first_detected_at`."""
        f = Finding
        resolved = or_(
            *(
                and_(f.status == status, at.is_not(None), at <= as_of)
                for status, at in RESOLVED_FINDING.items()
            )
        )
        age = SecondsBetween(f.first_detected_at, literal(as_of, type_=f.first_detected_at.type))
        whens = [(age < upper * 86400.0, label) for label, upper in AGE_BUCKETS if upper]
        bucket = case(*whens, else_=AGE_BUCKETS[-1][0])
        rows = self.session.execute(
            select(bucket, func.count())
            .where(f.first_detected_at <= as_of, f.status != "suppressed", ~resolved)
            .group_by(bucket)
        ).all()
        return {str(label): int(n) for label, n in rows}

    def waivers(self, as_of: datetime, expiring: timedelta) -> tuple[int, int]:
        """(waivers in force at `as_of`, of which ending within `expiring`)."""
        w = Waiver
        active = and_(
            w.active_from.is_not(None),
            w.active_from <= as_of,
            w.expires_at > as_of,
            or_(w.closed_at.is_(None), w.closed_at > as_of),
        )
        row = self.session.execute(
            select(func.count(), _ones(w.expires_at <= as_of + expiring)).where(active)
        ).one()
        return int(row[0]), int(row[1])

    def lead_times(self, envs: Collection[str], start: datetime, end: datetime) -> Duration:
        """Submission to first production deployment, for changes first deployed in the
        period (seconds): deployed in it, and never to production before it."""
        d, e = Deployment, aliased(Deployment)
        earlier = exists().where(
            e.change_id == d.change_id,
            e.environment.in_(list(envs)),
            e.kind == "deploy",
            e.started_at < start,
        )
        first = (
            select(d.change_id.label("change_id"), func.min(d.started_at).label("at"))
            .where(self.production(envs, start, end), ~earlier)
            .group_by(d.change_id)
            .subquery()
        )
        values = (
            select(SecondsBetween(Change.submitted_at, first.c.at).label("v"))
            .select_from(first)
            .join(Change, Change.id == first.c.change_id)
            .where(Change.submitted_at.is_not(None))
            .subquery()
        )
        return self.durations(values)

    def restore_times(self, envs: Collection[str], start: datetime, end: datetime) -> Duration:
        """Failed production deployment start -> end of the next successful production
        deployment of the same change and environment, for those restored (seconds)."""
        d, r = Deployment, aliased(Deployment)
        restored = (
            select(d.started_at.label("failed_at"), func.min(r.finished_at).label("restored_at"))
            .join(
                r,
                and_(
                    r.change_id == d.change_id,
                    r.environment == d.environment,
                    r.status == "succeeded",
                    r.id > d.id,
                    r.finished_at.is_not(None),
                ),
            )
            .where(self.production(envs, start, end), d.status.in_(FAILED))
            .group_by(d.id, d.started_at)
            .subquery()
        )
        values = select(
            SecondsBetween(restored.c.failed_at, restored.c.restored_at).label("v")
        ).subquery()
        return self.durations(values)

    def production_days(
        self, envs: Collection[str], start: datetime, end: datetime
    ) -> list[DayCounts]:
        """Per UTC day, the production deployments (kind `deploy`) started in the period: one
        pass over them for the controls, the DORA counts and the weekly series."""
        d, t = Deployment, TestRun
        tested = exists().where(
            t.change_id == d.change_id,
            t.commit == d.commit,
            t.isolated.is_(True),
            t.ok.is_(True),
            t.recorded_at <= d.started_at,
        )
        approved = and_(Change.approved_at.is_not(None), Change.approved_at <= d.started_at)
        day = UtcDay(d.started_at)
        rows = self.session.execute(
            select(
                day,
                func.count(),
                _ones(approved),
                _ones(tested),
                _ones(d.status.in_(REACHED)),
                _ones(d.status != "started"),
                _ones(d.status.in_(FAILED)),
            )
            .select_from(d)
            .join(Change, Change.id == d.change_id)
            .where(self.production(envs, start, end))
            .group_by(day)
            .order_by(day)
        ).all()
        return [DayCounts(date.fromisoformat(str(r[0])), *(int(n) for n in r[1:])) for r in rows]
