"""Queries about change requests, their versions, approvals and reviews."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.models import Approval, Change, ChangeVersion, Counter, Review
from changegate.domain.changes import ChangeStatus
from changegate.domain.errors import BadInput, Conflict, NotFound


class Changes(Repository):
    def next_number(self) -> int:
        """Gap-free: the counter row stays locked until the creating transaction ends."""
        stmt = (
            update(Counter)
            .where(Counter.name == "change")
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        )
        return int(self.session.execute(stmt).scalar_one())

    def get(self, key: str) -> Change:
        normalised = _key(key)
        change = self.session.execute(
            select(Change).where(Change.key == normalised)
        ).scalar_one_or_none()
        if change is None:
            raise NotFound(f"no change {normalised}")
        return change

    def with_approvals(self, key: str) -> tuple[Change, list[Approval]]:
        """The change and every decision on it, oldest first, in one query: the gate's read.
        Raises BadInput for a malformed key, NotFound for an unknown one."""
        normalised = _key(key)
        rows = self.session.execute(
            select(Change, Approval)
            .outerjoin(Approval, Approval.change_id == Change.id)
            .where(Change.key == normalised)
            .order_by(Approval.decided_at, Approval.id)
            # The gate never reads the requester: not joined here, loaded if anyone asks.
            .options(lazyload(Change.requester))
        ).all()
        if not rows:
            raise NotFound(f"no change {normalised}")
        return rows[0][0], [a for _, a in rows if a is not None]

    def add(self, change: Change) -> Change:
        self.session.add(change)
        self.session.flush()
        return change

    def save(self, change: Change) -> None:
        """Compare-and-set: the UPDATE names the lock_version read; a concurrent writer loses."""
        key = change.key  # read now: a failed flush expires the object
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"{key} was changed by someone else meanwhile; retry") from None

    def list(self, status: ChangeStatus | None = None) -> Sequence[Change]:
        return self.session.execute(self._listed(status)).scalars().all()

    def page(self, status: ChangeStatus | None, limit: int, offset: int) -> Slice[Change]:
        return self.paginate(self._listed(status), limit, offset)

    def _listed(self, status: ChangeStatus | None) -> Select[tuple[Change]]:
        stmt = select(Change).order_by(Change.number)
        return stmt if status is None else stmt.where(Change.status == status.value)

    def count_by_status(self) -> dict[str, int]:
        stmt = select(Change.status, func.count()).group_by(Change.status)
        return {status: int(n) for status, n in self.session.execute(stmt).all()}

    def awaiting_decision(self, limit: int | None = None) -> Sequence[Change]:
        """Submitted changes, and emergencies implemented without their retro approval, oldest
        first (the first `limit` of them)."""
        stmt = (
            select(Change)
            .where(
                or_(
                    Change.status == ChangeStatus.SUBMITTED.value,
                    (Change.status == ChangeStatus.IMPLEMENTED.value)
                    & Change.retro_due_at.is_not(None)
                    & Change.retro_approved_at.is_(None),
                )
            )
            .order_by(Change.number)
            .limit(limit)
        )
        return self.session.execute(stmt).scalars().all()

    def with_open_obligations(self) -> Sequence[Change]:
        stmt = (
            select(Change)
            .where(
                Change.status == ChangeStatus.IMPLEMENTED.value,
                or_(
                    Change.retro_due_at.is_not(None) & Change.retro_approved_at.is_(None),
                    Change.pir_due_at.is_not(None) & Change.pir_recorded_at.is_(None),
                ),
            )
            .order_by(Change.number)
        )
        return self.session.execute(stmt).scalars().all()

    def add_version(self, version: ChangeVersion) -> None:
        self.session.add(version)
        self.session.flush()

    def version(self, change: Change, number: int) -> ChangeVersion:
        return self.session.execute(
            select(ChangeVersion).where(
                ChangeVersion.change_id == change.id, ChangeVersion.version == number
            )
        ).scalar_one()

    def approvals(self, change: Change) -> Sequence[Approval]:
        return (
            self.session.execute(
                select(Approval)
                .where(Approval.change_id == change.id)
                .order_by(Approval.decided_at, Approval.id)
            )
            .scalars()
            .all()
        )

    def approvals_of(self, changes: Sequence[Change]) -> dict[int, Sequence[Approval]]:
        """change id -> its decisions, as `approvals` orders them, in one query per chunk."""
        order = (Approval.decided_at, Approval.id)
        rows = [
            approval
            for among in self.among(Approval.change_id, [c.id for c in changes])
            for approval in self.session.execute(
                select(Approval).where(among).order_by(*order)
            ).scalars()
        ]
        return {c.id: [a for a in rows if a.change_id == c.id] for c in changes}

    def add_approval(self, approval: Approval) -> None:
        self.session.add(approval)
        self.session.flush()

    def reviews(self, change: Change) -> Sequence[Review]:
        return (
            self.session.execute(
                select(Review)
                .where(Review.change_id == change.id)
                .order_by(Review.recorded_at, Review.id)
            )
            .scalars()
            .all()
        )

    def add_review(self, review: Review) -> None:
        self.session.add(review)
        self.session.flush()


def _key(key: str) -> str:
    normalised = key.strip().upper()
    if not normalised.startswith("CHG-") or not normalised[4:].isdigit():
        raise BadInput(f"not a change key: {key!r} (expected CHG-<number>)")
    return normalised
