"""The evidence package's per-change records, loaded a chunk of changes at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from changegate.db.base import Repository
from changegate.db.models import (
    Approval,
    Change,
    ChangeVersion,
    Checkpoint,
    Deployment,
    Finding,
    GateDecisionRecord,
    LedgerRecord,
    Review,
    TestRun,
    User,
    Waiver,
)
from changegate.db.populations import PIR, active_change_ids, between


@dataclass
class ChangeRecords:
    """Everything stored about some changes, grouped by change id."""

    changes: list[Change]
    versions: dict[int, list[ChangeVersion]] = field(default_factory=lambda: defaultdict(list))
    approvals: dict[int, list[Approval]] = field(default_factory=lambda: defaultdict(list))
    test_runs: dict[int, list[TestRun]] = field(default_factory=lambda: defaultdict(list))
    gate_decisions: dict[int, list[GateDecisionRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    deployments: dict[int, list[Deployment]] = field(default_factory=lambda: defaultdict(list))
    pirs: dict[int, list[Review]] = field(default_factory=lambda: defaultdict(list))


class Evidence(Repository):
    def change_chunks(self, start: datetime, end: datetime, size: int) -> Iterator[list[int]]:
        """The ids of the changes active in the period, `size` at a time, in key order."""
        stmt = (
            select(Change.id)
            .where(Change.id.in_(active_change_ids(start, end)))
            .order_by(Change.number)
        )
        ids = list(self.session.execute(stmt).scalars())
        for i in range(0, len(ids), size):
            yield ids[i : i + size]

    def records(self, ids: Sequence[int]) -> ChangeRecords:
        found = ChangeRecords(self._all(select(Change), Change.id, ids, Change.number))
        for target, model, order in (
            (found.versions, ChangeVersion, ChangeVersion.version),
            (found.approvals, Approval, Approval.id),
            (found.test_runs, TestRun, TestRun.id),
            (found.gate_decisions, GateDecisionRecord, GateDecisionRecord.id),
            (found.deployments, Deployment, Deployment.id),
        ):
            for row in self._all(select(model), model.change_id, ids, order):
                target[row.change_id].append(row)
        pirs = select(Review).where(Review.kind == PIR)
        for review in self._all(pirs, Review.change_id, ids, Review.id):
            if review.change_id is not None:
                found.pirs[review.change_id].append(review)
        return found

    def _all(self, stmt: Select[Any], column: Any, ids: Sequence[int], order: Any) -> list[Any]:
        out: list[Any] = []
        for among in self.among(column, ids):
            out.extend(self.session.execute(stmt.where(among).order_by(order)).scalars())
        return out

    def emails(self) -> dict[int, str]:
        return dict(self.session.execute(select(User.id, User.email)).tuples().all())

    def findings_by_change(self, start: datetime, end: datetime) -> dict[str, list[Finding]]:
        """Findings that occurred in the period, under the change each names (if any)."""
        stmt = select(Finding).where(between(Finding.occurred_at, start, end))
        out: dict[str, list[Finding]] = defaultdict(list)
        for f in self.session.execute(stmt.order_by(Finding.number)).scalars():
            key = (f.attributes or {}).get("change")
            if isinstance(key, str):
                out[key].append(f)
        return out

    def waivers_by_change(self) -> dict[str, list[Waiver]]:
        stmt = select(Waiver).where(Waiver.scope_kind == "change").order_by(Waiver.number)
        out: dict[str, list[Waiver]] = defaultdict(list)
        for w in self.session.execute(stmt).scalars():
            out[w.scope_value.upper()].append(w)
        return out

    def anchor(
        self, public_key: str, before: datetime | None = None, seq: int | None = None
    ) -> Checkpoint | None:
        """The newest checkpoint signed by `public_key`, taken before `before` or at `seq`."""
        stmt = select(Checkpoint).where(
            Checkpoint.public_key == public_key, Checkpoint.signature.is_not(None)
        )
        if before is not None:
            stmt = stmt.where(Checkpoint.at < before)
        if seq is not None:
            stmt = stmt.where(Checkpoint.seq == seq)
        stmt = stmt.order_by(Checkpoint.seq.desc(), Checkpoint.id.desc()).limit(1)
        return self.session.execute(stmt).scalars().first()

    def last_seq_before(self, end: datetime) -> int:
        """The highest seq of a record made before `end` (0: none)."""
        stmt = select(LedgerRecord.seq).where(LedgerRecord.at < end)
        top = self.session.execute(stmt.order_by(LedgerRecord.seq.desc()).limit(1)).scalar()
        return int(top or 0)

    def ledger_hash(self, seq: int) -> str | None:
        stmt = select(LedgerRecord.hash).where(LedgerRecord.seq == seq)
        return self.session.execute(stmt).scalar_one_or_none()
