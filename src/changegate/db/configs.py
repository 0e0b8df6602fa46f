"""Queries about baselines, observations and drift."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changegate.db.configuration import Baseline, BaselineResource, Drift, Observation
from changegate.db.models import Change
from changegate.domain.errors import NotFound

Key = tuple[str, str]


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

    def approved_resources(self) -> Sequence[BaselineResource]:
        stmt = (select(BaselineResource).join(Baseline)
                .where(Baseline.status == "approved").order_by(BaselineResource.id))
        return self.session.execute(stmt).scalars().all()

    def observation_exists(self, key: Key, captured_at: object) -> bool:
        stmt = select(Observation.id).where(
            Observation.resource_type == key[0], Observation.resource_id == key[1],
            Observation.captured_at == captured_at)
        return self.session.execute(stmt).first() is not None

    def latest_observations(self) -> dict[Key, Observation]:
        newest = (select(Observation.resource_type, Observation.resource_id,
                         func.max(Observation.captured_at).label("at"))
                  .group_by(Observation.resource_type, Observation.resource_id).subquery())
        stmt = select(Observation).join(newest, (
            (Observation.resource_type == newest.c.resource_type)
            & (Observation.resource_id == newest.c.resource_id)
            & (Observation.captured_at == newest.c.at)))
        return {(o.resource_type, o.resource_id): o
                for o in self.session.execute(stmt).scalars()}

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
