"""Queries about signed periodic reviews (quarterly and annual; PIRs belong to their change)."""

from __future__ import annotations

from collections.abc import Collection

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
