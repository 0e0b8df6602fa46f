"""Queries behind the web app's change pages: a filtered search, and one change's record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, or_, select

from changegate.db.base import Repository, Slice
from changegate.db.models import (
    Change,
    ChangeVersion,
    Finding,
    GateDecisionRecord,
    LedgerHead,
    LedgerRecord,
    User,
)

TIMELINE = 200


@dataclass(frozen=True)
class Search:
    """Every field optional; `text` matches the key or the title, `service` one of the
    affected services exactly, `start`/`end` the creation time (end exclusive)."""

    text: str = ""
    status: str = ""
    type: str = ""
    risk: str = ""
    service: str = ""
    requester: str = ""
    start: datetime | None = None
    end: datetime | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ChangePages(Repository):
    def search(self, s: Search, limit: int, offset: int) -> Slice[Change]:
        """Newest first, paged in SQL."""
        stmt = select(Change).order_by(Change.number.desc())
        if s.text:
            pattern = _like(s.text.lower())
            stmt = stmt.where(
                or_(
                    Change.key.ilike(pattern, escape="\\"),
                    Change.title.ilike(pattern, escape="\\"),
                )
            )
        for column, value in (
            (Change.status, s.status),
            (Change.change_type, s.type),
            (Change.risk, s.risk),
        ):
            if value:
                stmt = stmt.where(column == value)
        if s.service:
            # The list is JSON on both databases: match the quoted element in its text.
            quoted = _like('"' + s.service.replace('"', "") + '"')
            stmt = stmt.where(cast(Change.affected_services, String).like(quoted, escape="\\"))
        if s.requester:
            stmt = stmt.join(User, User.id == Change.requester_id).where(
                User.email == s.requester.lower()
            )
        if s.start is not None:
            stmt = stmt.where(Change.created_at >= s.start)
        if s.end is not None:
            stmt = stmt.where(Change.created_at < s.end)
        return self.paginate(stmt, limit, offset)

    def versions(self, change: Change) -> Sequence[ChangeVersion]:
        stmt = (
            select(ChangeVersion)
            .where(ChangeVersion.change_id == change.id)
            .order_by(ChangeVersion.version)
        )
        return self.session.execute(stmt).scalars().all()

    def gate_decisions(self, change: Change, limit: int) -> Sequence[GateDecisionRecord]:
        stmt = (
            select(GateDecisionRecord)
            .where(GateDecisionRecord.change_id == change.id)
            .order_by(GateDecisionRecord.id.desc())
            .limit(limit)
        )
        return self.session.execute(stmt).scalars().all()

    def findings(self, subject: str, limit: int) -> Sequence[Finding]:
        stmt = (
            select(Finding)
            .where(Finding.subject == subject)
            .order_by(Finding.number.desc())
            .limit(limit)
        )
        return self.session.execute(stmt).scalars().all()

    def timeline(self, subject: str) -> Sequence[LedgerRecord]:
        """The ledger's records about `subject`, oldest first (the last TIMELINE of them)."""
        stmt = (
            select(LedgerRecord)
            .where(LedgerRecord.subject == subject)
            .order_by(LedgerRecord.seq.desc())
            .limit(TIMELINE)
        )
        return list(reversed(self.session.execute(stmt).scalars().all()))

    def latest(self, action: str, limit: int) -> Sequence[LedgerRecord]:
        """The newest ledger records of `action`, newest first."""
        stmt = (
            select(LedgerRecord)
            .where(LedgerRecord.action == action)
            .order_by(LedgerRecord.seq.desc())
            .limit(limit)
        )
        return self.session.execute(stmt).scalars().all()

    def head(self) -> tuple[int, str]:
        """(sequence, hash) of the ledger's last record."""
        row = self.session.execute(select(LedgerHead.seq, LedgerHead.hash)).one()
        return int(row[0]), str(row[1])
