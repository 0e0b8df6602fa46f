"""Named job leases: at most one worker runs a periodic job at a time.

A lease is taken with a compare-and-set UPDATE (free, expired, or already ours), so two workers
racing for it cannot both win; it expires on its own, so a worker that dies holding it blocks
the job only until `expires_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update

from changegate.db.base import Repository
from changegate.db.models import Lease


class Leases(Repository):
    def exists(self, name: str) -> bool:
        return (
            self.session.execute(select(Lease.name).where(Lease.name == name)).first() is not None
        )

    def add(self, name: str) -> None:
        self.session.add(Lease(name=name))
        self.session.flush()

    def take(
        self,
        name: str,
        holder: str,
        now: datetime,
        until: datetime,
        ran_before: datetime | None = None,
    ) -> bool:
        """Hold `name` until `until` if it is free, expired or ours, and (given `ran_before`)
        its last completed run is no later than that: a job that runs hourly stays idle for
        the rest of the hour whichever worker ran it."""
        conditions = [
            Lease.name == name,
            or_(
                Lease.holder.is_(None),
                Lease.expires_at.is_(None),
                Lease.expires_at <= now,
                Lease.holder == holder,
            ),
        ]
        if ran_before is not None:
            conditions.append(or_(Lease.last_run_at.is_(None), Lease.last_run_at <= ran_before))
        stmt = (
            update(Lease)
            .where(*conditions)
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def give_back(self, name: str, holder: str, ran_at: datetime | None) -> bool:
        """Free the lease if `holder` still has it; `ran_at` marks a run that completed."""
        values: dict[str, object] = {"holder": None, "expires_at": None}
        if ran_at is not None:
            values["last_run_at"] = ran_at
        stmt = (
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def last_run(self, name: str) -> datetime | None:
        return self.session.execute(
            select(Lease.last_run_at).where(Lease.name == name)
        ).scalar_one_or_none()
