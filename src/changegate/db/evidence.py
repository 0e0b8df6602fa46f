"""The evidence package's per-change records, loaded a chunk of changes at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import aliased

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
    TrailEvent,
    User,
    Waiver,
)
from changegate.db.populations import PIR, active_change_ids, between
from changegate.db.populations_trail import CHANGE_KINDS

Rows = dict[int, list[Row[Any]]]


def _grouped() -> Rows:
    return defaultdict(list)


@dataclass
class ChangeRecords:
    """Everything stored about some changes, as plain rows (a table's columns, and the email
    of each person it names) grouped by change id: a year's worth is too many ORM objects."""

    changes: list[Row[Any]]
    versions: Rows = field(default_factory=_grouped)
    approvals: Rows = field(default_factory=_grouped)
    test_runs: Rows = field(default_factory=_grouped)
    gate_decisions: Rows = field(default_factory=_grouped)
    deployments: Rows = field(default_factory=_grouped)
    pirs: Rows = field(default_factory=_grouped)
    aws_events: Rows = field(default_factory=_grouped)  # the CloudTrail calls its sessions named


def _with_email(model: Any, person: Any, label: str) -> Select[Any]:
    who = aliased(User)
    return select(*model.__table__.c, who.email.label(label)).join(who, who.id == person)


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
        changes = _with_email(Change, Change.requester_id, "requester")
        found = ChangeRecords(self._all(changes, Change.id, ids, Change.number))
        pirs = _with_email(Review, Review.author_id, "author").where(Review.kind == PIR)
        for target, stmt, model, order in (
            (found.versions, _with_email(ChangeVersion, ChangeVersion.created_by_id, "created_by"),
             ChangeVersion, ChangeVersion.version),
            (found.approvals, _with_email(Approval, Approval.approver_id, "approver"), Approval,
             Approval.id),
            (found.test_runs, _with_email(TestRun, TestRun.recorded_by_id, "recorded_by"), TestRun,
             TestRun.id),
            (found.gate_decisions, select(*GateDecisionRecord.__table__.c), GateDecisionRecord,
             GateDecisionRecord.id),
            (found.deployments, _with_email(Deployment, Deployment.deployer_id, "deployer"),
             Deployment, Deployment.id),
            (found.pirs, pirs, Review, Review.id),
        ):  # fmt: skip
            for row in self._all(stmt, model.change_id, ids, order):
                target[row.change_id].append(row)
        by_key = {c.key.upper(): c.id for c in found.changes}
        calls = (
            select(*TrailEvent.__table__.c)
            .where(TrailEvent.kind.in_(CHANGE_KINDS))
            .order_by(TrailEvent.event_time)
        )
        for row in self._all(calls, TrailEvent.change_key, list(by_key), TrailEvent.event_id):
            found.aws_events[by_key[row.change_key]].append(row)
        return found

    def _all(self, stmt: Select[Any], column: Any, ids: Sequence[int], order: Any) -> list[Any]:
        out: list[Any] = []
        for among in self.among(column, ids):
            out.extend(self.session.execute(stmt.where(among).order_by(order)))
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
