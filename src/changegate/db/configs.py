"""Queries about baselines, observations and drift."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    CompoundSelect,
    Row,
    Select,
    Table,
    Text,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from changegate.db.base import Repository, Slice
from changegate.db.engine import check_storable, loads, on_postgres
from changegate.db.models import (
    Baseline,
    BaselineResource,
    Change,
    Drift,
    LedgerRecord,
    Observation,
)
from changegate.domain.errors import Conflict, NotFound

Key = tuple[str, str]
APPROVED = "approved"
# What makes an observation unique (its table's unique constraint).
CAPTURE_KEY = ("resource_type", "resource_id", "captured_at")
# pg_advisory_xact_lock keys: observation writers ("cg-obs" in ASCII) and drift scans ("cg-scn").
OBSERVATION_WRITERS = 0x63672D6F6273
DRIFT_SCANS = 0x63672D73636E


def _newest(o: Any, by_id: Any, r: Any) -> Any:
    """The id of the newest observation of baseline resource `r`: matched by id (`by_id`), or
    with None by name. An observation is of a baseline resource when their types agree and the
    resource's id is the observation's id or its name (templates name IAM roles, AWS Config
    identifies them by role id)."""
    match = by_id if by_id is not None else o.resource_name == r.resource_id
    return (
        select(o.id)
        .where(o.resource_type == r.resource_type, match)
        .order_by(o.captured_at.desc(), o.id.desc())
        .limit(1)
        .scalar_subquery()
    )


class ResourceRow(NamedTuple):
    id: int
    resource_type: str
    resource_id: str
    logical_id: str | None
    properties: dict[str, Any]
    pseudo_properties: list[str] | None = None  # to bind per observation; None: all


class ObservationRow(NamedTuple):
    id: int
    resource_type: str
    resource_id: str
    arn: str | None
    captured_at: datetime
    status: str
    account_id: str | None
    region: str | None
    properties: dict[str, Any] | None  # in CloudFormation's vocabulary; None: untranslated
    shape: str


class DriftRow(NamedTuple):
    id: int
    status: str
    observation_id: int
    reopened: int
    detected_at: datetime
    due_at: datetime | None
    lock_version: int


class ScanTarget(NamedTuple):
    """One approved resource with its latest observation and its newest drift, if any."""

    resource: ResourceRow
    seen: ObservationRow | None
    last: DriftRow | None


class ScanTotals(NamedTuple):
    approved: int  # resources of approved baselines
    observed: int  # ... that have at least one observation
    open: int  # open drift on them


class Configs(Repository):
    def add(self, *rows: Baseline | BaselineResource | Observation | Drift) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def latest_version(self, name: str) -> int:
        stmt = select(func.max(Baseline.version)).where(Baseline.name == name)
        return int(self.session.execute(stmt).scalar_one() or 0)

    def baseline(self, name: str, version: int | None = None) -> Baseline:
        stmt = select(Baseline).where(Baseline.name == name)
        stmt = (
            stmt.where(Baseline.version == version)
            if version
            else stmt.order_by(Baseline.version.desc()).limit(1)
        )
        found = self.session.execute(stmt).scalars().first()
        if found is None:
            raise NotFound(f"no baseline {name}" + (f" version {version}" if version else ""))
        return found

    def baselines(self) -> Sequence[Baseline]:
        return self.session.execute(self._baselines()).scalars().all()

    def baseline_page(self, limit: int, offset: int) -> Slice[Baseline]:
        return self.paginate(self._baselines(), limit, offset)

    def _baselines(self) -> Select[tuple[Baseline]]:
        return select(Baseline).order_by(Baseline.name, Baseline.version)

    def serialise_observation_writes(self) -> None:
        """Until this transaction ends, no other transaction inserts observations.

        The incremental drift scan treats observation ids above its watermark as new; that is
        only sound if ids become visible in the order they were allocated. PostgreSQL allocates
        them at insert, not commit, so two overlapping ingests could commit a lower id after a
        scan had read a higher one. SQLite writers are serialised already (BEGIN IMMEDIATE).
        """
        self._serialise(OBSERVATION_WRITERS)

    def serialise_scans(self) -> None:
        """Until this transaction ends, no other drift scan runs: two at once would both see a
        resource without drift and both open one. The second then starts from the first's mark."""
        self._serialise(DRIFT_SCANS)

    def _serialise(self, key: int) -> None:
        if on_postgres(self.session):
            self.session.execute(select(func.pg_advisory_xact_lock(key)))

    def add_observations(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert the rows not stored yet (same type, id and capture time); how many were new.

        One executemany that lets the unique key skip duplicates: asking first which captures
        were known took 32 of the 40 s of ingesting 100,000 items into a fresh PostgreSQL
        table, whose `type = ? AND id IN (...)` lookups read every row of the type before
        statistics existed. It checks what a flush checks (`check_storable`) itself.
        """
        if not rows:
            return 0
        postgres = on_postgres(self.session)
        table = cast(Table, Observation.__table__)
        for row in rows:
            check_storable(table, row)
        stmt = (
            (postgresql.insert(table) if postgres else sqlite.insert(table))
            .on_conflict_do_nothing(index_elements=list(CAPTURE_KEY))
            .execution_options(preserve_rowcount=True)
        )  # SQLAlchemy keeps it for UPDATE and DELETE only
        return int(self.session.connection().execute(stmt, list(rows)).rowcount)

    def latest_observation_rows(self) -> dict[Key, ObservationRow]:
        o = Observation
        newest = (
            select(o.resource_type, o.resource_id, func.max(o.captured_at).label("at"))
            .group_by(o.resource_type, o.resource_id)
            .subquery()
        )
        stmt = select(
            o.id,
            o.resource_type,
            o.resource_id,
            o.arn,
            o.captured_at,
            o.status,
            o.account_id,
            o.region,
            o.properties,
            o.shape,
        ).join(
            newest,
            (
                (o.resource_type == newest.c.resource_type)
                & (o.resource_id == newest.c.resource_id)
                & (o.captured_at == newest.c.at)
            ),
        )
        return {(row[1], row[2]): ObservationRow(*row) for row in self.session.execute(stmt)}

    def newest_observation_id(self) -> int:
        return int(self.session.execute(select(func.max(Observation.id))).scalar_one() or 0)

    def approved_baseline_ids(self) -> list[int]:
        stmt = select(Baseline.id).where(Baseline.status == APPROVED).order_by(Baseline.id)
        return list(self.session.execute(stmt).scalars())

    def scan_targets(
        self, after: int | None = None, known: Sequence[int] = (), batch: int = 1000
    ) -> Iterator[ScanTarget]:
        """Approved resources in id order, streamed `batch` rows at a time, each with its latest
        observation and newest drift. With `after`, only observed ones that were observed after
        that observation id or are in an approved baseline not in `known`; without, all of them
        (unobserved ones with `seen` None)."""
        r, o, d = BaselineResource, Observation, Drift
        o2, d2 = aliased(Observation), aliased(Drift)
        # The newest observation's id, then a primary-key join (joining on an OR is a scan): by
        # the resource's id if any observation carries it, else by the name it was given. Each
        # is one descending index scan, on (type, id, captured_at) or (type, name, captured_at).
        newest_observation = func.coalesce(
            _newest(o2, o2.resource_id == r.resource_id, r),
            _newest(aliased(Observation), None, r),
        )
        newest_drift = (
            select(func.max(d2.id)).where(d2.baseline_resource_id == r.id).scalar_subquery()
        )
        stmt = (
            select(
                r.id,
                r.resource_type,
                r.resource_id,
                r.logical_id,
                # JSON as text, decoded in `_target`: the driver's JSON loading took a third
                # of a 100,000-resource scan on PostgreSQL.
                r.properties.cast(Text),
                r.pseudo_properties.cast(Text),
                o.id,
                o.arn,
                o.captured_at,
                o.status,
                o.account_id,
                o.region,
                o.properties.cast(Text),
                o.shape,
                d.id,
                d.status,
                d.observation_id,
                d.reopened,
                d.detected_at,
                d.due_at,
                d.lock_version,
            )
            .join(Baseline, Baseline.id == r.baseline_id)
            .outerjoin(o, o.id == newest_observation)
            .outerjoin(d, d.id == newest_drift)
            .where(Baseline.status == APPROVED)
            .order_by(r.id)
        )
        if after is not None:
            stmt = stmt.where(o.id.is_not(None), r.id.in_(_changed_since(after, known)))
        # Core, not the ORM: these are columns, and the ORM's row loading cost a second per
        # 100,000 resources.
        rows = self.session.connection().execute(stmt.execution_options(yield_per=batch))
        for row in rows:
            yield _target(row)

    def scan_totals(self) -> ScanTotals:
        r, o = BaselineResource, Observation
        # Two EXISTS, one per index: one EXISTS over an OR is a scan per resource on SQLite.
        seen = or_(
            select(o.id)
            .where(o.resource_type == r.resource_type, o.resource_id == r.resource_id)
            .exists(),
            select(o.id)
            .where(o.resource_type == r.resource_type, o.resource_name == r.resource_id)
            .exists(),
        )
        resources = (
            select(func.count(), func.count(case((seen, 1))))
            .select_from(r)
            .join(Baseline)
            .where(Baseline.status == APPROVED)
        )
        approved = select(r.id).join(Baseline).where(Baseline.status == APPROVED)
        opened = (
            select(func.count())
            .select_from(Drift)
            .where(Drift.status == "open", Drift.baseline_resource_id.in_(approved))
        )
        total, observed = self.session.execute(resources).one()
        return ScanTotals(total, observed, self.session.execute(opened).scalar_one())

    def last_payload(self, action: str) -> str | None:
        """The payload of the newest ledger record of this action (canonical JSON)."""
        stmt = (
            select(LedgerRecord.payload)
            .where(LedgerRecord.action == action)
            .order_by(LedgerRecord.seq.desc())
            .limit(1)
        )
        return self.session.execute(stmt).scalar_one_or_none()

    def insert_drifts(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """New drift rows in one executemany; their ids, ascending in the order given.

        The ids are taken first so the insert needs no RETURNING: with it, SQLAlchemy sends
        multi-row INSERTs that psycopg parses in Python, about 0.2 ms a row here.
        """
        ids = self._drift_ids(len(rows))
        if rows:
            table = cast(Table, Drift.__table__)
            self.session.execute(
                insert(table),
                [{**row, "id": drift_id} for drift_id, row in zip(ids, rows, strict=True)],
            )
        return ids

    def _drift_ids(self, count: int) -> list[int]:
        if not count:
            return []
        if on_postgres(self.session):
            sequence = func.pg_get_serial_sequence("drifts", "id")
            stmt = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
            return sorted(self.session.execute(stmt).scalars())
        # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so nobody else
        # inserts before it; it would assign max + 1 onwards itself.
        top = self.session.execute(select(func.max(Drift.id))).scalar_one() or 0
        return list(range(top + 1, top + 1 + count))

    def close_drifts(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Compare-and-set, in one executemany: each row names a drift (`drift`), the
        `lock_version` it was read at, and its new `status`, `closed_at`, `remediation_seconds`.
        """
        if not rows:
            return
        table = cast(Table, Drift.__table__)
        t = table.c
        stmt = (
            update(table)
            .where(t.id == bindparam("drift"), t.lock_version == bindparam("read_version"))
            .values(
                status=bindparam("new_status", type_=t.status.type),
                closed_at=bindparam("closed", type_=t.closed_at.type),
                remediation_seconds=bindparam("seconds", type_=t.remediation_seconds.type),
                lock_version=t.lock_version + 1,
            )
        )
        changed = self.session.connection().execute(stmt, list(rows)).rowcount
        if changed != len(rows):
            raise Conflict("a concurrent writer changed a drift first; retry")

    def drifts(self, status: str | None = None) -> Sequence[Drift]:
        return self.session.execute(self._drifts(status)).scalars().all()

    def drift_page(self, status: str | None, limit: int, offset: int) -> Slice[Drift]:
        return self.paginate(self._drifts(status), limit, offset)

    def _drifts(self, status: str | None) -> Select[tuple[Drift]]:
        stmt = select(Drift).order_by(Drift.id)
        return stmt.where(Drift.status == status) if status else stmt

    def drift(self, drift_id: int) -> Drift:
        found = self.session.get(Drift, drift_id)
        if found is None:
            raise NotFound(f"no drift {drift_id}")
        return found

    def executed_changes(self) -> Sequence[Change]:
        stmt = select(Change).where(
            Change.status.in_(("implemented", "closed")), Change.implemented_at.is_not(None)
        )
        return self.session.execute(stmt).scalars().all()


def _changed_since(after: int, known: Sequence[int]) -> CompoundSelect[tuple[int]]:
    """Ids of resources observed after observation `after`, or in approved baselines not in
    `known`. A UNION under IN, not an OR: PostgreSQL planned the OR as a nested scan of the
    new observations for every resource (40 s for 2,500 new ones among 100,000)."""
    r, o, b = aliased(BaselineResource), aliased(Observation), aliased(Baseline)
    # One join per way an observation names a resource (its id, its name): each an index
    # lookup from the few new observations, where a join on their OR is a scan.
    by_id = (
        select(r.id)
        .join(o, (o.resource_type == r.resource_type) & (o.resource_id == r.resource_id))
        .where(o.id > after)
    )
    by_name = (
        select(r.id)
        .join(o, (o.resource_type == r.resource_type) & (o.resource_name == r.resource_id))
        .where(o.id > after)
    )
    added = (
        select(r.id).join(b, b.id == r.baseline_id).where(b.status == APPROVED, b.id.not_in(known))
    )
    return union(by_id, by_name, added)


def _json(text: str | None) -> Any:
    return None if text is None else loads(text)


def _target(row: Row[Any]) -> ScanTarget:
    resource = ResourceRow(row[0], row[1], row[2], row[3], _json(row[4]), _json(row[5]))
    seen = (
        None
        if row[6] is None
        else ObservationRow(
            row[6],
            row[1],
            row[2],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            _json(row[12]),
            row[13],
        )
    )
    last = None if row[14] is None else DriftRow(*row[14:21])
    return ScanTarget(resource, seen, last)
