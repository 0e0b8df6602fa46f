"""The queries behind the ISO's annual reviews: a year's policy digests, findings, baselines,
verifications, drift and waivers, as plain rows (the quarterly counts live in `Metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select

from changegate.db.base import Repository
from changegate.db.models import (
    Baseline,
    BaselineResource,
    Drift,
    Finding,
    GateDecisionRecord,
    Review,
    User,
    Waiver,
)


def _between(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column >= start, column < end)


class ReviewRecords(Repository):
    def policy_digests(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        """(digest, decisions, first, last) for each policy digest the gate decided under."""
        d = GateDecisionRecord
        return self.session.execute(
            select(d.policy_digest, func.count(), func.min(d.decided_at), func.max(d.decided_at))
            .where(_between(d.decided_at, start, end))
            .group_by(d.policy_digest)
            .order_by(func.min(d.decided_at), d.policy_digest)
        ).all()

    def findings_by_control(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        """(control, status, count) of findings that occurred in [start, end)."""
        f = Finding
        return self.session.execute(
            select(f.control, f.status, func.count())
            .where(_between(f.occurred_at, start, end))
            .group_by(f.control, f.status)
            .order_by(f.control, f.status)
        ).all()

    def baselines(self, end: datetime) -> Sequence[Row[Any]]:
        """Every baseline version created before `end`, its approval and resource count."""
        approver = select(User.email).where(User.id == Baseline.approver_id).scalar_subquery()
        resources = (
            select(func.count())
            .where(BaselineResource.baseline_id == Baseline.id)
            .scalar_subquery()
        )
        b = Baseline
        return self.session.execute(
            select(
                b.name,
                b.version,
                b.status,
                b.source_sha256,
                b.created_at,
                approver,
                b.approved_at,
                resources,
            )
            .where(b.created_at < end)
            .order_by(b.name, b.version)
        ).all()

    def reviews(self, kind: str) -> Sequence[Row[Any]]:
        """(id, summary, author email, recorded_at) of every review of a kind, oldest first."""
        return self.session.execute(
            select(Review.id, Review.summary, User.email, Review.recorded_at)
            .join(User, User.id == Review.author_id)
            .where(Review.kind == kind)
            .order_by(Review.id)
        ).all()

    def drifts(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        """Drift detected in [start, end), oldest first."""
        d = Drift
        return self.session.execute(
            select(
                d.id,
                d.resource_type,
                d.resource_id,
                d.status,
                d.authorised_by,
                d.detected_at,
                d.due_at,
                d.closed_at,
            )
            .where(_between(d.detected_at, start, end))
            .order_by(d.id)
        ).all()

    def waivers(self, start: datetime, end: datetime) -> Sequence[Waiver]:
        """Waivers requested, or in force, at some time in [start, end)."""
        w = Waiver
        stmt = (
            select(w)
            .where(
                w.created_at < end,
                or_(w.expires_at.is_(None), w.expires_at >= start),
                or_(w.closed_at.is_(None), w.closed_at >= start),
            )
            .order_by(w.number)
        )
        return self.session.execute(stmt).scalars().all()
