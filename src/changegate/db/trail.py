"""Queries about CloudTrail events and trail cursors (CM-5)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from changegate.db.base import Repository, Slice
from changegate.db.bulk import insert_new
from changegate.db.engine import check_storable, on_postgres
from changegate.db.models import Change, Deployment, Finding, TrailCursor, TrailEvent, User
from changegate.domain.errors import NotFound

CHANGE = "change"


@dataclass(frozen=True)
class Filters:
    """What `trail list` narrows by; None: not narrowed."""

    principal: str | None = None  # the stable principal, or the actor's name
    change: str | None = None  # the change key a pipeline session named
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    kind: str | None = None
    production: frozenset[str] | None = None  # only these environments


class TrailEvents(Repository):
    def add(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """Insert the events not stored yet (by eventID); the eventIDs that were new. Each row
        has passed `check_storable` (services/trail_parse.py checks a record as it reads it, so
        that one bad record spoils only itself, and in a worker process)."""
        if not rows:
            return set()
        table = cast(Table, TrailEvent.__table__)
        return insert_new(self.session.connection(), table, rows, "event_id")

    def get(self, event_id: str) -> TrailEvent:
        found = self.session.get(TrailEvent, event_id.strip())
        if found is None:
            raise NotFound(f"no CloudTrail event {event_id.strip()!r}")
        return found

    def page(self, filters: Filters, limit: int, offset: int) -> Slice[TrailEvent]:
        return self.paginate(self._listed(filters), limit, offset)

    def scan(self, filters: Filters) -> Iterator[TrailEvent]:
        """Every event `filters` selects, in list order, a batch at a time."""
        stmt = self._listed(filters).execution_options(yield_per=500)
        yield from self.session.execute(stmt).scalars()

    def changes(self, start: datetime, end: datetime) -> Iterator[TrailEvent]:
        """The change events of [start, end), oldest first: what CM-5 re-classifies."""
        yield from self.scan(Filters(kind=CHANGE, since=start, until=end))

    def _listed(self, f: Filters) -> Select[tuple[TrailEvent]]:
        e = TrailEvent
        stmt = select(e).order_by(e.event_time, e.event_id)
        if f.principal:
            stmt = stmt.where((e.principal == f.principal) | (e.actor_name == f.principal))
        if f.change:
            stmt = stmt.where(e.change_key == f.change)
        if f.since:
            stmt = stmt.where(e.event_time >= f.since)
        if f.until:
            stmt = stmt.where(e.event_time < f.until)
        if f.kind:
            stmt = stmt.where(e.kind == f.kind)
        if f.production is not None:
            stmt = stmt.where(e.environment.in_(sorted(f.production)))
        return stmt

    def finding(self, fingerprint: str) -> str | None:
        """The key of the finding with this fingerprint (the audit's rule|subject), if raised."""
        stmt = select(Finding.key).where(Finding.fingerprint == fingerprint)
        return self.session.execute(stmt).scalar_one_or_none()

    def count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(TrailEvent)).scalar_one())


class TrailCursors(Repository):
    def last_key(self, bucket: str, prefix: str, account: str, region: str) -> str | None:
        stmt = select(TrailCursor.last_key).where(
            TrailCursor.bucket == bucket,
            TrailCursor.prefix == prefix,
            TrailCursor.account == account,
            TrailCursor.region == region,
        )
        return self.session.execute(stmt).scalar_one_or_none()

    def advance(
        self, bucket: str, prefix: str, account: str, region: str, key: str, at: datetime
    ) -> None:
        """Remember `key` as ingested (an upsert: two ingests of one bucket may race here; the
        later key wins, and keys only grow, so a lost race loses nothing)."""
        table = cast(Table, TrailCursor.__table__)
        values = {
            "bucket": bucket,
            "prefix": prefix,
            "account": account,
            "region": region,
            "last_key": key,
            "updated_at": at,
        }
        check_storable(table, values)
        postgres = on_postgres(self.session)
        insert = postgresql.insert(table) if postgres else sqlite.insert(table)
        larger = func.greatest if postgres else func.max  # SQLite's two-argument max
        stmt = insert.values(**values).on_conflict_do_update(
            index_elements=["bucket", "prefix", "account", "region"],
            set_={
                "last_key": larger(insert.excluded.last_key, table.c.last_key),
                "updated_at": insert.excluded.updated_at,
            },
        )
        self.session.execute(stmt)


class TrailBasis(Repository):
    """What covers a change event: the pipeline's deployments of the changes its sessions
    name, and emergency changes implemented around the events (domain/trail/coverage.py)."""

    def runs(
        self,
        keys: Sequence[str],
        start: datetime,
        end: datetime,
        environments: Collection[str] | None = None,
    ) -> list[Row[Any]]:
        """(id, key, status, type, environment, started, finished) of the deployments of
        `keys` that were running at some time in [start, end], to `environments` only where
        given."""
        d, c = Deployment, Change
        stmt = (
            select(d.id, c.key, c.status, c.change_type, d.environment, d.started_at, d.finished_at)
            .join(c, c.id == d.change_id)
            .where(d.started_at <= end, (d.finished_at.is_(None)) | (d.finished_at >= start))
        )
        if environments is not None:
            stmt = stmt.where(d.environment.in_(sorted(environments)))
        rows: list[Row[Any]] = []
        for among in self.among(c.key, sorted(set(keys))):
            rows.extend(self.session.execute(stmt.where(among)).all())
        return rows

    def emergencies(self, start: datetime, end: datetime) -> list[Row[Any]]:
        """(key, implementer's email, implemented at) of emergency changes implemented in
        [start, end]."""
        c = Change
        stmt = (
            select(c.key, User.email, c.implemented_at)
            .join(User, User.id == c.implemented_by_id)
            .where(
                c.change_type == "emergency",
                c.implemented_at >= start,
                c.implemented_at <= end,
            )
            .order_by(c.implemented_at, c.key)
        )
        return list(self.session.execute(stmt).all())
