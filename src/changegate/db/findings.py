"""Queries about audit runs, findings and disciplinary actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.models import AuditRun, Counter, DisciplinaryAction, Finding
from changegate.domain.errors import BadInput, Conflict, NotFound


class Findings(Repository):
    def next_numbers(self, count: int) -> list[int]:
        """Gap-free: one counter update reserves a block, locked until the transaction ends."""
        stmt = (
            update(Counter)
            .where(Counter.name == "finding")
            .values(value=Counter.value + count)
            .returning(Counter.value)
        )
        last = int(self.session.execute(stmt).scalar_one())
        return list(range(last - count + 1, last + 1))

    def get(self, key: str) -> Finding:
        normalised = key.strip().upper()
        if (
            not normalised.startswith("FND-")
            or not normalised[4:].isdigit()
            or len(normalised) > 14
        ):
            raise BadInput(f"not a finding key: {key!r} (expected FND-<number>)")
        found = self.session.execute(
            select(Finding).where(Finding.key == normalised)
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(f"no finding {normalised}")
        return found

    def by_fingerprint(self, fingerprints: Sequence[str]) -> dict[str, Finding]:
        out: dict[str, Finding] = {}
        for among in self.among(Finding.fingerprint, fingerprints):
            stmt = select(Finding).where(among)
            out.update((f.fingerprint, f) for f in self.session.execute(stmt).scalars())
        return out

    def touch(self, findings: Sequence[Finding], at: datetime) -> None:
        """Record that a re-run found these again: one executemany, not a statement per row.

        The same compare-and-set the ORM would do (the `lock_version` read, bumped by one); the
        loaded objects are brought in step so no later flush writes them again.
        """
        if not findings:
            return
        table = cast(Table, Finding.__table__)
        t = table.c
        stmt = (
            update(table)
            .where(t.id == bindparam("finding"), t.lock_version == bindparam("read_version"))
            .values(last_detected_at=bindparam("seen_at"), lock_version=t.lock_version + 1)
        )
        rows = [{"finding": f.id, "read_version": f.lock_version, "seen_at": at} for f in findings]
        if self.session.connection().execute(stmt, rows).rowcount != len(rows):
            raise Conflict("a finding was changed by someone else meanwhile; retry")
        for f in findings:
            set_committed_value(f, "last_detected_at", at)
            set_committed_value(f, "lock_version", f.lock_version + 1)

    def add_run(self, run: AuditRun) -> AuditRun:
        self.session.add(run)
        self.session.flush()
        return run

    def add_all(self, rows: Sequence[Finding]) -> None:
        """Two audits racing over one period both try to insert a fingerprint: one loses."""
        self.session.add_all(rows)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict("another audit recorded these findings first; retry") from None

    def save(self, finding: Finding) -> None:
        key = finding.key
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"{key} was changed by someone else meanwhile; retry") from None

    def page(
        self, status: str | None, control: str | None, limit: int, offset: int
    ) -> Slice[Finding]:
        """Newest first."""
        stmt = select(Finding).order_by(Finding.number.desc())
        if status:
            stmt = stmt.where(Finding.status == status)
        if control:
            stmt = stmt.where(Finding.control == control.upper())
        return self.paginate(stmt, limit, offset)

    def runs(self, limit: int, offset: int) -> Slice[AuditRun]:
        """Newest first."""
        return self.paginate(select(AuditRun).order_by(AuditRun.id.desc()), limit, offset)

    def run(self, run_id: int) -> AuditRun:
        found = self.session.get(AuditRun, run_id)
        if found is None:
            raise NotFound(f"no audit run {run_id}")
        return found

    def add_action(self, action: DisciplinaryAction) -> DisciplinaryAction:
        self.session.add(action)
        self.session.flush()
        return action

    def actions(self, finding: Finding) -> Sequence[DisciplinaryAction]:
        stmt = (
            select(DisciplinaryAction)
            .where(DisciplinaryAction.finding_id == finding.id)
            .order_by(DisciplinaryAction.id)
        )
        return self.session.execute(stmt).scalars().all()

    def action_counts(self, finding_ids: Sequence[int]) -> dict[int, int]:
        stmt = (
            select(DisciplinaryAction.finding_id, func.count())
            .where(DisciplinaryAction.finding_id.in_(list(finding_ids)))
            .group_by(DisciplinaryAction.finding_id)
        )
        return {fid: int(n) for fid, n in self.session.execute(stmt).all()}
