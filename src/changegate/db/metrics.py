"""The aggregates behind the CM-6 metrics: SQL counts, sums and picked percentile values.

A year can hold 100,000 changes and their deployments, so every figure here is one or two
statements whose answer is a handful of rows: nothing loops over the records in Python.
Percentiles are nearest-rank (`domain.dashboard.rank`): count, then ORDER BY ... OFFSET k,
which SQLite and PostgreSQL both run the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.selectable import Subquery

from changegate.db.base import Repository
from changegate.db.models import Change, Deployment, Drift, Finding, TestRun, Waiver
from changegate.domain.dashboard import AGE_BUCKETS, rank
from changegate.domain.dora import Duration

# Deployments that reached production: a rolled-back one ran before it was undone.
REACHED = ("succeeded", "rolled_back")
FAILED = ("failed", "rolled_back")
RESOLVED_FINDING = {"dismissed": Finding.decided_at, "closed": Finding.remediated_at}


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
    """The UTC calendar day of an instant, as ISO text."""

    inherit_cache = True


@compiles(UtcDay, "sqlite")
def _day_sqlite(element: UtcDay, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(next(iter(element.clauses)), **kw)})"


@compiles(UtcDay, "postgresql")
def _day_pg(element: UtcDay, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _between(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _ones(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class MetricRecords(Repository):
    def durations(self, values: Subquery) -> Duration:
        """Count, median and p90 of the one column `v` of `values` (nulls ignored)."""
        v = values.c.v
        n = int(self.session.execute(select(func.count(v))).scalar_one())
        if n == 0:
            return Duration()

        def pick(fraction: float) -> float:
            stmt = select(v).where(v.is_not(None)).order_by(v).offset(rank(fraction, n)).limit(1)
            return float(self.session.execute(stmt).scalar_one())

        return Duration(n, pick(0.5), pick(0.9))

    def production(self, envs: Collection[str], start: datetime, end: datetime) -> Any:
        d = Deployment
        return and_(
            d.environment.in_(list(envs)), d.kind == "deploy", _between(d.started_at, start, end)
        )

    def deployment_controls(
        self, envs: Collection[str], start: datetime, end: datetime
    ) -> tuple[int, int, int]:
        """(production deployments started in the period, approved before they started,
        with a passing isolated test run of the same change and commit before they started)."""
        d, t = Deployment, TestRun
        tested = exists().where(
            t.change_id == d.change_id,
            t.commit == d.commit,
            t.isolated.is_(True),
            t.ok.is_(True),
            t.recorded_at <= d.started_at,
        )
        approved = and_(Change.approved_at.is_not(None), Change.approved_at <= d.started_at)
        row = self.session.execute(
            select(func.count(), _ones(approved), _ones(tested))
            .select_from(d)
            .join(Change, Change.id == d.change_id)
            .where(self.production(envs, start, end))
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

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

    def dora_counts(
        self, envs: Collection[str], start: datetime, end: datetime
    ) -> tuple[int, int, int]:
        """(reached production, finished, failed) of the period's production deployments."""
        d = Deployment
        row = self.session.execute(
            select(
                _ones(d.status.in_(REACHED)),
                _ones(d.status != "started"),
                _ones(d.status.in_(FAILED)),
            ).where(self.production(envs, start, end))
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def lead_times(self, envs: Collection[str], start: datetime, end: datetime) -> Duration:
        """Submission to first production deployment, for changes first deployed in the
        period (seconds)."""
        d = Deployment
        first = (
            select(d.change_id.label("change_id"), func.min(d.started_at).label("at"))
            .where(d.environment.in_(list(envs)), d.kind == "deploy", d.started_at < end)
            .group_by(d.change_id)
            .having(func.min(d.started_at) >= start)
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
        restored_at = (
            select(func.min(r.finished_at))
            .where(
                r.change_id == d.change_id,
                r.environment == d.environment,
                r.status == "succeeded",
                r.id > d.id,
                r.finished_at.is_not(None),
            )
            .scalar_subquery()
        )
        values = (
            select(SecondsBetween(d.started_at, restored_at).label("v"))
            .where(self.production(envs, start, end), d.status.in_(FAILED))
            .subquery()
        )
        return self.durations(values)

    def per_day(
        self, envs: Collection[str], start: datetime, end: datetime
    ) -> list[tuple[date, int, int]]:
        """(UTC day, reached production, failed) of the period's production deployments."""
        d = Deployment
        day = UtcDay(d.started_at)
        rows = self.session.execute(
            select(day, _ones(d.status.in_(REACHED)), _ones(d.status.in_(FAILED)))
            .where(self.production(envs, start, end))
            .group_by(day)
            .order_by(day)
        ).all()
        return [(date.fromisoformat(str(k)), int(a), int(b)) for k, a, b in rows]
