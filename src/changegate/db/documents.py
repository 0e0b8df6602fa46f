"""Queries about the documents evidence cites: policy documents and uploaded files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from changegate.db.base import Repository
from changegate.db.engine import on_postgres
from changegate.db.models import EvidenceFile, LedgerRecord, PolicyDocument


class Documents(Repository):
    def _insert_once(self, model: Any, row: dict[str, Any]) -> None:
        # Two processes may store the same document at once: the key keeps one, neither fails.
        table = cast(Table, model.__table__)
        stmt = postgresql.insert(table) if on_postgres(self.session) else sqlite.insert(table)
        self.session.execute(stmt.values(**row).on_conflict_do_nothing())

    def keep_policy(self, digest: str, document: str, source: str, at: datetime) -> None:
        row = {"digest": digest, "document": document, "source": source, "first_in_force_at": at}
        self._insert_once(PolicyDocument, row)

    def policies(self, digests: Sequence[str]) -> Sequence[PolicyDocument]:
        stmt = select(PolicyDocument).where(PolicyDocument.digest.in_(sorted(set(digests))))
        return self.session.scalars(stmt.order_by(PolicyDocument.digest)).all()

    def keep_file(self, sha256: str, content: bytes, at: datetime) -> None:
        row = {"sha256": sha256, "size": len(content), "content": content, "stored_at": at}
        self._insert_once(EvidenceFile, row)

    def file(self, sha256: str) -> bytes | None:
        row = self.session.get(EvidenceFile, sha256)
        return row.content if row else None

    def in_force_records(
        self, action: str, start: datetime, end: datetime
    ) -> Sequence[tuple[int, datetime, str]]:
        """(seq, at, payload) of the `action` records that put a policy in force during
        [start, end), after the last one before `start` (the policy in force as it opens)."""
        r = LedgerRecord
        opening = select(func.max(r.seq)).where(r.action == action, r.at < start)
        during = and_(r.action == action, r.at >= start, r.at < end)
        stmt = select(r.seq, r.at, r.payload).where(or_(r.seq == opening.scalar_subquery(), during))
        return [(int(s), at, str(p)) for s, at, p in self.session.execute(stmt.order_by(r.seq))]

    def stored(self, sha256s: Sequence[str]) -> set[str]:
        """Which of these files are kept (their bytes are read one at a time, by `file`)."""
        found: set[str] = set()
        for predicate in self.among(EvidenceFile.sha256, sorted(set(sha256s))):
            found.update(self.session.scalars(select(EvidenceFile.sha256).where(predicate)))
        return found
