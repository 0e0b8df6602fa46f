"""Linear issues linked to changes and waivers, and the `linear sync` cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository
from changegate.db.engine import check_storable
from changegate.db.models import LinearCursor, LinearIssue
from changegate.domain.errors import Conflict

SYNC_CURSOR = "issues"


class LinearIssues(Repository):
    def get(self, issue_id: str) -> LinearIssue | None:
        return self.session.get(LinearIssue, issue_id)

    def by_key(self, key: str) -> LinearIssue | None:
        stmt = select(LinearIssue).where(LinearIssue.key == key)
        return self.session.execute(stmt).scalar_one_or_none()

    def linked(self) -> Sequence[LinearIssue]:
        """Every issue that became a change or a waiver, oldest first."""
        stmt = (
            select(LinearIssue)
            .where(LinearIssue.key.is_not(None))
            .order_by(LinearIssue.created_at, LinearIssue.issue_id)
        )
        return self.session.execute(stmt).scalars().all()

    def save(self, row: LinearIssue) -> None:
        """Insert or compare-and-set update; two deliveries of one issue at once: one wins."""
        check_storable(
            LinearIssue.__table__,
            {"identifier": row.identifier, "url": row.url, "issue_id": row.issue_id},
        )
        if row not in self.session:
            self.session.add(row)
        try:
            self.session.flush()
        except (IntegrityError, StaleDataError):
            raise Conflict(f"Linear issue {row.identifier} changed meanwhile; retry") from None

    def cursor(self) -> datetime | None:
        row = self.session.get(LinearCursor, SYNC_CURSOR)
        return row.synced_to if row is not None else None

    def advance(self, to: datetime, now: datetime) -> None:
        row = self.session.get(LinearCursor, SYNC_CURSOR)
        if row is None:
            self.session.add(LinearCursor(name=SYNC_CURSOR, synced_to=to, updated_at=now))
        elif to > row.synced_to:
            row.synced_to, row.updated_at = to, now
        self.session.flush()
