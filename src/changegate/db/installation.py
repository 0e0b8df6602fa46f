"""Queries about the installation itself."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from changegate.db.base import Repository
from changegate.db.engine import on_postgres
from changegate.db.models import InstallationFact, LedgerRecord


class Installation(Repository):
    def fact(self, name: str) -> str | None:
        row = self.session.get(InstallationFact, name)
        return row.value if row else None

    def record(self, name: str, value: str, at: datetime) -> None:
        self.session.add(InstallationFact(name=name, value=value, recorded_at=at))
        self.session.flush()

    def put(self, name: str, value: str, at: datetime) -> None:
        """Record the fact, replacing an earlier value."""
        # Two processes may put the same fact at once: the key keeps one, neither fails.
        table = cast(Table, InstallationFact.__table__)
        insert = postgresql.insert if on_postgres(self.session) else sqlite.insert
        row = {"name": name, "value": value, "recorded_at": at}
        stmt = insert(table).values(**row)
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["name"], set_={"value": value, "recorded_at": at}
            )
        )
        self.session.get(InstallationFact, name, populate_existing=True)  # no stale copy

    def first_ledger_record_at(self) -> datetime | None:
        return self.session.execute(select(func.min(LedgerRecord.at))).scalar_one_or_none()
