"""Queries about baselines, observations and drift."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changegate.db.configuration import Baseline, BaselineResource, Drift, Observation
from changegate.db.models import Change
from changegate.domain.errors import NotFound

Key = tuple[str, str]


class ResourceRow(NamedTuple):
    id: int
    resource_type: str
    resource_id: str
    logical_id: str | None
    properties: dict[str, Any]


class ObservationRow(NamedTuple):
    id: int
    resource_type: str
    resource_id: str
    arn: str | None
    captured_at: datetime
    status: str
    configuration: dict[str, Any] | None


class Configs:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: Baseline | BaselineResource | Observation | Drift) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def latest_version(self, name: str) -> int:
        stmt = select(func.max(Baseline.version)).where(Baseline.name == name)
        return int(self.session.execute(stmt).scalar_one() or 0)

    def baseline(self, name: str, version: int | None = None) -> Baseline:
        stmt = select(Baseline).where(Baseline.name == name)
        stmt = stmt.where(Baseline.version == version) if version else stmt.order_by(
            Baseline.version.desc()).limit(1)
        found = self.session.execute(stmt).scalars().first()
        if found is None:
            raise NotFound(f"no baseline {name}" + (f" version {version}" if version else ""))
        return found

    def baselines(self) -> Sequence[Baseline]:
        return self.session.execute(
            select(Baseline).order_by(Baseline.name, Baseline.version)).scalars().all()

    def known_captures(self, keys: set[Key]) -> set[tuple[str, str, datetime]]:
        """(type, id, capture time) already stored for these resources, 500 ids a query.

        Grouped by type so each query is `type = ? AND id IN (...)`, which the (type, id) index
        serves; a row-value IN over both columns made PostgreSQL scan the table.
        """
        by_type: dict[str, list[str]] = {}
        for resource_type, resource_id in sorted(keys):
            by_type.setdefault(resource_type, []).append(resource_id)
        found: set[tuple[str, str, datetime]] = set()
        for resource_type, ids in by_type.items():
            for start in range(0, len(ids), 500):
                stmt = select(Observation.resource_id, Observation.captured_at).where(
                    Observation.resource_type == resource_type,
                    Observation.resource_id.in_(ids[start:start + 500]))
                found.update((resource_type, i, at) for i, at in self.session.execute(stmt))
        return found

    def approved_resource_rows(self) -> list[ResourceRow]:
        r = BaselineResource
        stmt = (select(r.id, r.resource_type, r.resource_id, r.logical_id, r.properties)
                .join(Baseline).where(Baseline.status == "approved").order_by(r.id))
        return [ResourceRow(*row) for row in self.session.execute(stmt)]

    def latest_observation_rows(self) -> dict[Key, ObservationRow]:
        o = Observation
        newest = (select(o.resource_type, o.resource_id, func.max(o.captured_at).label("at"))
                  .group_by(o.resource_type, o.resource_id).subquery())
        stmt = select(o.id, o.resource_type, o.resource_id, o.arn, o.captured_at, o.status,
                      o.configuration).join(newest, (
                          (o.resource_type == newest.c.resource_type)
                          & (o.resource_id == newest.c.resource_id)
                          & (o.captured_at == newest.c.at)))
        return {(row[1], row[2]): ObservationRow(*row) for row in self.session.execute(stmt)}

    def latest_drifts(self) -> dict[int, Drift]:
        """The newest drift of each baseline resource."""
        out: dict[int, Drift] = {}
        for drift in self.session.execute(select(Drift).order_by(Drift.id)).scalars():
            out[drift.baseline_resource_id] = drift
        return out

    def drifts(self, status: str | None = None) -> Sequence[Drift]:
        stmt = select(Drift).order_by(Drift.id)
        if status:
            stmt = stmt.where(Drift.status == status)
        return self.session.execute(stmt).scalars().all()

    def drift(self, drift_id: int) -> Drift:
        found = self.session.get(Drift, drift_id)
        if found is None:
            raise NotFound(f"no drift {drift_id}")
        return found

    def executed_changes(self) -> Sequence[Change]:
        stmt = select(Change).where(Change.status.in_(("implemented", "closed")),
                                    Change.implemented_at.is_not(None))
        return self.session.execute(stmt).scalars().all()
