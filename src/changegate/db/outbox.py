"""The notification outbox: queueing, due rows, claims, settling, listing.

Every write names the `lock_version` it read (compare-and-set), so of two workers that saw the
same due row only one claims it, and a worker whose claim expired and was taken over cannot
settle the row behind the new holder's back.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.engine import check_storable
from changegate.db.models import Notification
from changegate.domain.errors import Conflict, NotFound
from changegate.domain.notifications import NotificationStatus

PENDING, DELIVERED, DEAD = (
    NotificationStatus.PENDING.value,
    NotificationStatus.DELIVERED.value,
    NotificationStatus.DEAD.value,
)


class Outbox(Repository):
    def due(self, now: datetime, channels: Collection[str], limit: int) -> Sequence[Notification]:
        """Pending rows whose time has come and that nobody holds (or whose holder's claim ran
        out: the process died mid-send), oldest first."""
        stmt = (
            select(Notification)
            .where(
                Notification.status == PENDING,
                Notification.next_attempt_at <= now,
                Notification.channel.in_(list(channels)),
                or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming right now are skipped rather than
            # waited for; the compare-and-set below is what makes a double claim impossible.
            .with_for_update(skip_locked=True)
        )
        return self.session.execute(stmt).scalars().all()

    def claim(self, row: Notification, worker: str, until: datetime) -> int | None:
        """Take `row` for `worker` until `until`; the new lock_version, or None if lost."""
        return self._cas(row.id, row.lock_version, claimed_by=worker, claimed_until=until)

    def settle(self, row_id: int, version: int, worker: str, **values: Any) -> bool:
        """Write the outcome of `worker`'s attempt and drop its claim, if the claim still holds."""
        return (
            self._cas(row_id, version, worker=worker, claimed_by=None, claimed_until=None, **values)
            is not None
        )

    def _cas(
        self, row_id: int, version: int, worker: str | None = None, **values: Any
    ) -> int | None:
        conditions = [Notification.id == row_id, Notification.lock_version == version]
        if worker is not None:
            conditions.append(Notification.claimed_by == worker)
        stmt = (
            update(Notification)
            .where(*conditions)
            .values(**values, lock_version=version + 1)
            .execution_options(synchronize_session=False)
        )
        changed = self.session.execute(stmt).rowcount  # type: ignore[attr-defined]
        return version + 1 if changed == 1 else None

    def get(self, row_id: int) -> Notification:
        row = self.session.get(Notification, row_id, populate_existing=True)
        if row is None:
            raise NotFound(f"no notification {row_id}")
        return row

    def save(self, row: Notification) -> None:
        """Compare-and-set through the ORM's version column: a concurrent claim wins."""
        row_id = row.id  # read now: a failed flush expires the object
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"notification {row_id} changed meanwhile; retry") from None

    def page(self, status: str | None, limit: int, offset: int) -> Slice[Notification]:
        """Newest first."""
        stmt = select(Notification).order_by(Notification.id.desc())
        if status is not None:
            stmt = stmt.where(Notification.status == status)
        return self.paginate(stmt, limit, offset)

    def queued(self, event_keys: Sequence[str]) -> set[tuple[str, str, str]]:
        """(event_key, channel, recipient) already in the outbox for these events."""
        found: set[tuple[str, str, str]] = set()
        for i in range(0, len(event_keys), 5000):
            stmt = select(
                Notification.event_key, Notification.channel, Notification.recipient
            ).where(Notification.event_key.in_(event_keys[i : i + 5000]))
            found.update((k, c, r) for k, c, r in self.session.execute(stmt).all())
        return found

    def add_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows as column values, inserted with one executemany and no RETURNING: an audit
        queues thousands, and the ORM's multi-row VALUES cost seconds in the driver's query
        parsing. Raises BadInput (`check_storable`) before anything is written."""
        for row in rows:
            check_storable(Notification.__table__, row)
        if rows:
            self.session.execute(insert(Notification), rows)

    def for_event(self, event_key: str) -> Sequence[Notification]:
        stmt = (
            select(Notification)
            .where(Notification.event_key == event_key)
            .order_by(Notification.id)
        )
        return self.session.execute(stmt).scalars().all()
