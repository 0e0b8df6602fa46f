"""Queries about signed periodic reviews (quarterly and annual; PIRs belong to their change)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select

from changegate.db.base import Repository, Slice
from changegate.db.models import Review
from changegate.domain.errors import NotFound

PIR = "pir"


class Reviews(Repository):
    def page(self, kinds: Collection[str], limit: int, offset: int) -> Slice[Review]:
        """Newest first; every kind but PIRs when `kinds` is empty."""
        stmt = select(Review).order_by(Review.recorded_at.desc(), Review.id.desc())
        stmt = stmt.where(Review.kind.in_(list(kinds))) if kinds else stmt.where(Review.kind != PIR)
        return self.paginate(stmt, limit, offset)

    def get(self, review_id: int) -> Review:
        found = self.session.get(Review, review_id)
        if found is None or found.kind == PIR:
            raise NotFound(f"no signed review {review_id}")
        return found

    def recorded_between(self, start: datetime, end: datetime) -> Sequence[Review]:
        """Signed periodic reviews (no PIRs) recorded in [start, end), oldest first."""
        stmt = (
            select(Review)
            .where(Review.kind != PIR, Review.recorded_at >= start, Review.recorded_at < end)
            .order_by(Review.recorded_at, Review.id)
        )
        return self.session.execute(stmt).scalars().all()
