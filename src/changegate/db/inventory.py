"""The inventory: what AWS Config observed, resource by resource, and which baselines declare it
(`config list`, and the CFG-1 audit of resources no baseline declares)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from changegate.db.base import Repository, Slice
from changegate.db.models import Baseline, BaselineResource, Observation
from changegate.domain.configuration import ItemStatus

GONE = (ItemStatus.DELETED.value, ItemStatus.DELETED_NOT_RECORDED.value)
EVER_APPROVED = ("approved", "superseded")


class Seen(NamedTuple):
    """A resource's latest observation in a window, and when the window first saw it."""

    observation_id: int
    resource_type: str
    resource_id: str
    resource_name: str | None
    account_id: str | None
    region: str | None
    status: str
    captured_at: datetime
    first_seen: datetime


class Inventory(Repository):
    def page(
        self, resource_type: str | None, account: str | None, limit: int, offset: int
    ) -> Slice[Seen]:
        """Every resource's latest observation, by type and id."""
        stmt = self._latest(None, None, resource_type, account)
        found = self.paginate_rows(stmt.order_by("resource_type", "resource_id"), limit, offset)
        return Slice([Seen(*row) for row in found.rows], found.total)

    def observed(self, accounts: Collection[str], start: datetime, end: datetime) -> Iterator[Seen]:
        """Resources observed in these accounts in [start, end), streamed in key order."""
        if not accounts:
            return iter(())
        stmt = self._latest(start, end, None, None, accounts)
        rows = self.session.execute(stmt.order_by("resource_type", "resource_id"))
        return (Seen(*row) for row in rows)

    def declaring(self, seen: Collection[Seen]) -> dict[tuple[str, str], str]:
        """For these resources, the approved baseline that declares each (by id or name)."""
        keys = {s.resource_id for s in seen} | {s.resource_name for s in seen if s.resource_name}
        if not keys:
            return {}
        stmt = (
            select(BaselineResource.resource_type, BaselineResource.resource_id, Baseline.name)
            .join(Baseline)
            .where(Baseline.status == "approved", BaselineResource.resource_id.in_(sorted(keys)))
        )
        return {(t, i): name for t, i, name in self.session.execute(stmt)}

    def declared(self, as_of: datetime) -> frozenset[tuple[str, str]]:
        """(type, id) of every resource in the newest version of each baseline approved by
        `as_of`: what was in force then, whatever replaced it later."""
        newest = (
            select(Baseline.name, func.max(Baseline.version).label("version"))
            .where(Baseline.status.in_(EVER_APPROVED), Baseline.approved_at <= as_of)
            .group_by(Baseline.name)
            .subquery()
        )
        stmt = (
            select(BaselineResource.resource_type, BaselineResource.resource_id)
            .join(Baseline)
            .join(newest, (newest.c.name == Baseline.name) & (newest.c.version == Baseline.version))
        )
        return frozenset((t, i) for t, i in self.session.execute(stmt))

    def _latest(
        self,
        start: datetime | None,
        end: datetime | None,
        resource_type: str | None,
        account: str | None,
        accounts: Collection[str] = (),
    ) -> Select[Any]:
        o = Observation
        window = []
        if start is not None and end is not None:
            window = [o.captured_at >= start, o.captured_at < end]
        if accounts:
            window.append(o.account_id.in_(sorted(accounts)))
        if account:
            window.append(o.account_id == account)
        if resource_type:
            window.append(o.resource_type == resource_type)
        per_resource = (
            select(
                func.max(o.id).label("latest"),
                func.min(o.captured_at).label("first_seen"),
            )
            .where(*window)
            .group_by(o.resource_type, o.resource_id)
            .subquery()
        )
        seen = aliased(Observation)
        return select(
            seen.id,
            seen.resource_type,
            seen.resource_id,
            seen.resource_name,
            seen.account_id,
            seen.region,
            seen.status,
            seen.captured_at,
            per_resource.c.first_seen,
        ).join(per_resource, seen.id == per_resource.c.latest)
