"""Queries about waivers (the policy's exceptions) and their approvals."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.models import Counter, Waiver
from changegate.domain.errors import BadInput, Conflict, NotFound
from changegate.domain.waivers import WaiverStatus

PREFIX = "WVR-"


class Waivers(Repository):
    def next_number(self) -> int:
        """Gap-free: the counter row stays locked until the creating transaction ends."""
        stmt = (
            update(Counter)
            .where(Counter.name == "waiver")
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        )
        return int(self.session.execute(stmt).scalar_one())

    def get(self, key: str) -> Waiver:
        normalised = key.strip().upper()
        if not normalised.startswith(PREFIX) or not normalised[len(PREFIX) :].isdigit():
            raise BadInput(f"not a waiver key: {key!r} (expected {PREFIX}<number>)")
        waiver = self.session.execute(
            select(Waiver).where(Waiver.key == normalised)
        ).scalar_one_or_none()
        if waiver is None:
            raise NotFound(f"no waiver {normalised}")
        return waiver

    def add(self, waiver: Waiver) -> Waiver:
        self.session.add(waiver)
        self.session.flush()
        return waiver

    def save(self, waiver: Waiver) -> None:
        """Compare-and-set: the UPDATE names the lock_version read; a concurrent writer loses.

        The row is written even when only an approval was added to it, so two decisions on one
        round always race on this row and one of them re-reads the other's vote.
        """
        key = waiver.key  # read now: a failed flush expires the object
        flag_modified(waiver, "status")
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"{key} was changed by someone else meanwhile; retry") from None

    def list(self, status: WaiverStatus | None = None) -> Sequence[Waiver]:
        return self.session.execute(self._listed(status)).scalars().all()

    def page(self, status: WaiverStatus | None, limit: int, offset: int) -> Slice[Waiver]:
        return self.paginate(self._listed(status), limit, offset)

    def _listed(self, status: WaiverStatus | None) -> Select[tuple[Waiver]]:
        stmt = select(Waiver).order_by(Waiver.number)
        return stmt if status is None else stmt.where(Waiver.status == status.value)

    def in_status(self, statuses: Collection[WaiverStatus]) -> Sequence[Waiver]:
        stmt = (
            select(Waiver)
            .where(Waiver.status.in_([s.value for s in statuses]))
            .order_by(Waiver.number)
        )
        return self.session.execute(stmt).scalars().all()

    def due_for_expiry(self, now: datetime) -> Sequence[Waiver]:
        stmt = (
            select(Waiver)
            .where(Waiver.status == WaiverStatus.ACTIVE.value, Waiver.expires_at <= now)
            .order_by(Waiver.number)
        )
        return self.session.execute(stmt).scalars().all()

    def active_covers(self) -> Sequence[Waiver]:
        """Every waiver that was ever granted a window (active_from is set once and never
        cleared), whatever its status now: an old period re-audits against the windows it had."""
        stmt = select(Waiver).where(Waiver.active_from.is_not(None)).order_by(Waiver.number)
        return self.session.execute(stmt).scalars().all()
