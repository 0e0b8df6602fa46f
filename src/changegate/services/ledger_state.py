"""`ledger verify --state`: the live tables re-derived from the ledger alone, and compared.

The chain proves the ledger was not edited; this proves the tables the audit reads agree with it.
A row edited, deleted or inserted behind the application's back (with database access, not
through changegate) is named by table, key and field, with the ledger's value and the live one.

Covered so far: each change's status, version and version hash, and every approval decision
(who, which role, which version, approved or rejected, retroactive or not, and when). The
ledger records each of these in full; other tables are to follow (issue 12).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import Approval, Change, LedgerRecord, User

# The ledger action that moves a change to each status (edits name theirs in the payload).
STATUS_OF = {
    "change.created": "draft",
    "change.submitted": "submitted",
    "change.approved": "approved",
    "change.rejected": "rejected",
    "change.implemented": "implemented",
    "change.closed": "closed",
    "change.cancelled": "cancelled",
}
CHECKED = ("changes", "approvals")


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: str
    field: str
    ledger: str  # the value the ledger implies; "(none)" when it knows no such row
    live: str  # the value in the table; "(none)" when the row is gone


@dataclass
class _ChangeState:
    status: str = "(none)"
    version: int = 0
    version_hash: str = ""


@dataclass
class _Derived:
    changes: dict[str, _ChangeState] = field(default_factory=dict)
    approvals: Counter[tuple[str, ...]] = field(default_factory=Counter)


def check(session: Session) -> list[Mismatch]:
    """Every difference between the state the ledger implies and the live rows, in table and
    key order; empty when they agree. Reads the ledger once and each checked table once."""
    derived = _derive(_change_records(session))
    return [*_changes(session, derived), *_approvals(session, derived)]


def _change_records(session: Session) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    cols = LedgerRecord.__table__.c
    stmt = (
        select(cols.at, cols.actor, cols.action, cols.subject, cols.payload)
        .where(cols.action.like("change.%"))
        .order_by(cols.seq)
        .execution_options(yield_per=ledger.BATCH)
    )
    for at, actor, action, subject, payload in session.execute(stmt):
        yield ledger.stamp(at), actor, action, subject, json.loads(payload)


def _derive(records: Iterable[tuple[str, str, str, str, dict[str, Any]]]) -> _Derived:
    out = _Derived()
    for at, actor, action, key, payload in records:
        change = out.changes.setdefault(key, _ChangeState())
        if action in STATUS_OF:
            change.status = STATUS_OF[action]
        if action == "change.edited":
            change.status = str(payload.get("status", change.status))
        if "hash" in payload and action in ("change.created", "change.edited", "change.submitted"):
            change.version, change.version_hash = int(payload["version"]), str(payload["hash"])
        if "_by_" in action:
            out.approvals[_approval(key, actor, payload, at)] += 1
    return out


def _approval(key: str, approver: str, payload: dict[str, Any], at: str) -> tuple[str, ...]:
    return (
        key,
        approver,
        str(payload["role"]),
        str(payload["decision"]),
        str(payload["version"]),
        "retroactive" if payload.get("retroactive") else "in time",
        at,
    )


def _changes(session: Session, derived: _Derived) -> Iterator[Mismatch]:
    live = {
        key: _ChangeState(status, version, version_hash)
        for key, status, version, version_hash in session.execute(
            select(Change.key, Change.status, Change.version, Change.version_hash)
        )
    }
    for key in sorted(set(derived.changes) | set(live), key=_number):
        want, have = derived.changes.get(key), live.get(key)
        if want is None or have is None:
            yield Mismatch(
                "changes",
                key,
                "row",
                "present" if want else "(none)",
                "present" if have else "(none)",
            )
            continue
        for name in ("status", "version", "version_hash"):
            if getattr(want, name) != getattr(have, name):
                yield Mismatch(
                    "changes", key, name, str(getattr(want, name)), str(getattr(have, name))
                )


def _approvals(session: Session, derived: _Derived) -> Iterator[Mismatch]:
    rows = session.execute(
        select(
            Change.key,
            User.email,
            Approval.role,
            Approval.decision,
            Approval.version,
            Approval.retroactive,
            Approval.decided_at,
        )
        .join(Change, Change.id == Approval.change_id)
        .join(User, User.id == Approval.approver_id)
    )
    live: Counter[tuple[str, ...]] = Counter(
        (
            key,
            email,
            role,
            decision,
            str(version),
            "retroactive" if retro else "in time",
            ledger.stamp(at),
        )
        for key, email, role, decision, version, retro, at in rows
    )
    missing, extra = derived.approvals - live, live - derived.approvals
    for approval in sorted(missing | extra, key=lambda a: (_number(a[0]), a[6], a[1])):
        described = " ".join(approval[1:6]) + f" at {approval[6]}"
        present_in_ledger = approval in missing
        yield Mismatch(
            "approvals",
            approval[0],
            "row",
            described if present_in_ledger else "(none)",
            "(none)" if present_in_ledger else described,
        )


def _number(key: str) -> tuple[int, str]:
    digits = key.rpartition("-")[2]
    return (int(digits), key) if digits.isdigit() else (0, key)
