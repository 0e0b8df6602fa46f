"""Queries about the installation itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from changegate.db.base import Repository
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
        row = self.session.get(InstallationFact, name)
        if row is None:
            self.record(name, value, at)
        else:
            row.value, row.recorded_at = value, at

    def first_ledger_record_at(self) -> datetime | None:
        return self.session.execute(select(func.min(LedgerRecord.at))).scalar_one_or_none()
