"""Queries about where test runs are documented in Google Workspace (workspace_files)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from changegate.db.base import Repository
from changegate.db.models import Notification, TestRun, WorkspaceFile
from changegate.db.outbox import PENDING
from changegate.domain.errors import NotFound


class Workspace(Repository):
    def add(self, row: WorkspaceFile) -> WorkspaceFile:
        self.session.add(row)
        self.session.flush()
        return row

    def run(self, run_id: int) -> TestRun:
        found = self.session.get(TestRun, run_id)
        if found is None:
            raise NotFound(f"no test run {run_id}")
        return found

    def of_run(self, run_id: int) -> Sequence[WorkspaceFile]:
        stmt = select(WorkspaceFile).where(WorkspaceFile.test_run_id == run_id)
        return self.session.scalars(stmt.order_by(WorkspaceFile.id)).all()

    def of_runs(self, run_ids: Sequence[int]) -> Sequence[WorkspaceFile]:
        found: list[WorkspaceFile] = []
        for predicate in self.among(WorkspaceFile.test_run_id, sorted(set(run_ids))):
            stmt = select(WorkspaceFile).where(predicate)
            found += self.session.scalars(stmt.order_by(WorkspaceFile.id)).all()
        return found

    def documented(self, run_ids: Sequence[int]) -> set[int]:
        """Which of these runs have a file in Workspace (filed, or a verified Doc)."""
        found: set[int] = set()
        for predicate in self.among(WorkspaceFile.test_run_id, sorted(set(run_ids))):
            stmt = select(WorkspaceFile.test_run_id).where(predicate).distinct()
            found.update(self.session.scalars(stmt))
        return found

    def documented_at(self, run_ids: Sequence[int]) -> dict[int, datetime]:
        """When each of these runs was first documented in Workspace (filed, or a Doc
        verified); runs never documented are absent."""
        found: dict[int, datetime] = {}
        first = func.min(WorkspaceFile.recorded_at)
        for predicate in self.among(WorkspaceFile.test_run_id, sorted(set(run_ids))):
            stmt = select(WorkspaceFile.test_run_id, first).where(predicate)
            rows = self.session.execute(stmt.group_by(WorkspaceFile.test_run_id))
            found.update((run, at) for run, at in rows)
        return found

    def pending(self, event_keys: Sequence[str]) -> set[str]:
        """Which of these filings still wait in the outbox."""
        found: set[str] = set()
        for predicate in self.among(Notification.event_key, sorted(set(event_keys))):
            stmt = select(Notification.event_key).where(predicate, Notification.status == PENDING)
            found.update(self.session.scalars(stmt))
        return found
