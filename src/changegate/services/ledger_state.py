"""`ledger verify --state`: the live tables re-derived from the ledger alone, and compared.

The chain proves the ledger was not edited; this proves the tables the audit reads agree with it.
A row edited, deleted or inserted behind the application's back (with database access, not
through changegate) is named by table, key and field, with the ledger's value and the live one.

Covered so far: each change's status, version and version hash; every approval decision (who,
which role, which version, approved or rejected, retroactive or not, and when); every gate
decision (change, environment, commit, artifact, principal, verdict, policy digest, source,
when); and every deployment as its last ledger record left it (environment, kind, commit,
artifact, status, run URL, IaC path and digest, gate decision, rollback target, reason); and
every waiver (status, round, days asked, scope, end of its window) with every approval decision
on it. The ledger records each of these in full; drifts and findings are to follow (issue 12).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import (
    Approval,
    Change,
    Deployment,
    GateDecisionRecord,
    LedgerRecord,
    User,
    Waiver,
    WaiverApproval,
)

K = TypeVar("K", int, str)
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
CHECKED = (
    "changes",
    "approvals",
    "gate_decisions",
    "deployments",
    "waivers",
    "waiver_approvals",
)
FAMILIES = ("change", "gate", "deployment", "waiver")
# A deployment's ledger payload key -> its column, for the fields compared.
DEPLOYMENT_FIELDS = {
    "environment": "environment",
    "kind": "kind",
    "commit": "commit",
    "artifact": "artifact",
    "status": "status",
    "run_url": "run_url",
    "iac_path": "iac_path",
    "iac_sha256": "iac_sha256",
    "gate_decision_id": "gate_decision_id",
    "rollback_of": "rollback_of_id",
    "reason": "reason",
}
DECISION_FIELDS = (
    "change_key",
    "environment",
    "commit",
    "artifact",
    "principal",
    "allowed",
    "policy_digest",
    "source",
    "decided_at",
)


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
    decisions: dict[int, dict[str, str]] = field(default_factory=dict)
    deployments: dict[int, dict[str, str]] = field(default_factory=dict)
    waivers: dict[str, dict[str, str]] = field(default_factory=dict)
    waiver_votes: Counter[tuple[str, ...]] = field(default_factory=Counter)


def check(session: Session) -> list[Mismatch]:
    """Every difference between the state the ledger implies and the live rows, in table and
    key order; empty when they agree. Reads the ledger once and each checked table once."""
    derived = _derive(_records(session))
    return [
        *_changes(session, derived),
        *_approvals(session, derived),
        *_compare("gate_decisions", derived.decisions, _live_decisions(session)),
        *_compare("deployments", derived.deployments, _live_deployments(session)),
        *_compare("waivers", derived.waivers, _live_waivers(session)),
        *_counted("waiver_approvals", derived.waiver_votes, _live_waiver_votes(session)),
    ]


def _records(session: Session) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
    cols = LedgerRecord.__table__.c
    stmt = (
        select(cols.at, cols.actor, cols.action, cols.subject, cols.payload)
        .where(or_(*(cols.action.like(f"{family}.%") for family in FAMILIES)))
        .order_by(cols.seq)
        .execution_options(yield_per=ledger.BATCH)
    )
    for at, actor, action, subject, payload in session.execute(stmt):
        yield ledger.stamp(at), actor, action, subject, json.loads(payload)


def _derive(records: Iterable[tuple[str, str, str, str, dict[str, Any]]]) -> _Derived:
    out = _Derived()
    for at, actor, action, key, payload in records:
        if action.startswith("gate.") and "decision_id" in payload:
            out.decisions[int(payload["decision_id"])] = _decision(at, actor, action, key, payload)
            continue
        if action.startswith("deployment."):
            out.deployments[int(payload["deployment_id"])] = {
                column: str(payload.get(name)) for name, column in DEPLOYMENT_FIELDS.items()
            }
            continue
        if action.startswith("waiver."):
            _waiver(out, at, actor, action, key, payload)
            continue
        if not action.startswith("change."):
            continue
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


def _waiver(
    out: _Derived, at: str, actor: str, action: str, key: str, payload: dict[str, Any]
) -> None:
    """A waiver's state as each of its records leaves it (waivers.py, waiver_reviews.py)."""
    if action == "waiver.requested":
        scope = payload["scope"]
        out.waivers[key] = {
            "status": "requested",
            "round": "1",
            "requested_days": str(payload["days"]),
            "scope_kind": str(scope["kind"]),
            "scope_value": str(scope["value"]),
            "expires_at": "None",
        }
        return
    waiver = out.waivers.setdefault(key, {})
    if action in ("waiver.approved", "waiver.rejected"):
        vote = (key, actor, str(payload["role"]), str(payload["decision"]), str(payload["round"]))
        out.waiver_votes[(*vote, at)] += 1
        waiver.update(status=str(payload["status"]), round=str(payload["round"]))
    elif action == "waiver.activated":
        # Waivers stamp their windows to the second: read it back as the instant it names.
        waiver["expires_at"] = ledger.stamp(datetime.fromisoformat(str(payload["end"])))
    elif action == "waiver.reviewed":
        waiver.update(
            status=str(payload["status"]),
            round=str(payload["round"]),
            requested_days=str(payload["days"]),
        )
    elif action == "waiver.expired":
        waiver["status"] = "expired"


def _live_waivers(session: Session) -> dict[str, dict[str, str]]:
    w = Waiver
    rows = session.execute(
        select(
            w.key, w.status, w.round, w.requested_days, w.scope_kind, w.scope_value, w.expires_at
        )
    )
    names = ("status", "round", "requested_days", "scope_kind", "scope_value")
    return {
        key: dict(zip(names, map(str, values), strict=True))
        | {"expires_at": ledger.stamp(expires) if expires else "None"}
        for key, *values, expires in rows
    }


def _live_waiver_votes(session: Session) -> Counter[tuple[str, ...]]:
    a = WaiverApproval
    rows = session.execute(
        select(Waiver.key, User.email, a.role, a.decision, a.round, a.decided_at)
        .join(Waiver, Waiver.id == a.waiver_id)
        .join(User, User.id == a.approver_id)
    )
    return Counter(
        (key, email, role, decision, str(round_), ledger.stamp(at))
        for key, email, role, decision, round_, at in rows
    )


def _counted(
    table: str, derived: Counter[tuple[str, ...]], live: Counter[tuple[str, ...]]
) -> Iterator[Mismatch]:
    """Rows without a key of their own (decisions), described, that one side lacks."""
    missing, extra = derived - live, live - derived
    for row in sorted(missing | extra, key=lambda r: (_number(r[0]), r[-1], r[1])):
        described = " ".join(row[1:-1]) + f" at {row[-1]}"
        on_ledger = row in missing
        ledger_side, live_side = (described, "(none)") if on_ledger else ("(none)", described)
        yield Mismatch(table, row[0], "row", ledger_side, live_side)


def _decision(
    at: str, actor: str, action: str, key: str, payload: dict[str, Any]
) -> dict[str, str]:
    return {
        "change_key": key,
        "environment": str(payload.get("environment")),
        "commit": str(payload.get("commit")),
        "artifact": str(payload.get("artifact")),
        "principal": actor,
        "allowed": str(action == "gate.allowed"),
        "policy_digest": str(payload.get("policy_digest")),
        "source": str(payload.get("source")),
        "decided_at": at,
    }


def _live_decisions(session: Session) -> dict[int, dict[str, str]]:
    t = GateDecisionRecord.__table__.c
    rows = session.execute(select(t.id, *(t[name] for name in DECISION_FIELDS)))
    return {
        row[0]: {
            name: ledger.stamp(value) if name == "decided_at" else str(value)
            for name, value in zip(DECISION_FIELDS, row[1:], strict=True)
        }
        for row in rows
    }


def _live_deployments(session: Session) -> dict[int, dict[str, str]]:
    t = Deployment.__table__.c
    columns = list(DEPLOYMENT_FIELDS.values())
    rows = session.execute(select(t.id, *(t[name] for name in columns)))
    return {
        row[0]: {name: str(value) for name, value in zip(columns, row[1:], strict=True)}
        for row in rows
    }


def _compare(
    table: str, derived: Mapping[K, dict[str, str]], live: Mapping[K, dict[str, str]]
) -> Iterator[Mismatch]:
    """Rows keyed by id (shown as #id) or by key: present on one side only, or differing in a
    field."""
    for key in sorted(set(derived) | set(live)):
        shown = f"#{key}" if isinstance(key, int) else str(key)
        want, have = derived.get(key), live.get(key)
        if want is None or have is None:
            present = ("present" if want else "(none)", "present" if have else "(none)")
            yield Mismatch(table, shown, "row", *present)
            continue
        for name, value in want.items():
            if value != have[name]:
                yield Mismatch(table, shown, name, value, have[name])


def _approval(key: str, approver: str, payload: dict[str, Any], at: str) -> tuple[str, ...]:
    return (
        key,
        approver,
        str(payload["role"]),
        str(payload["decision"]),
        str(payload["version"]),
        _when(payload.get("retroactive")),
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
    a = Approval
    rows = session.execute(
        select(Change.key, User.email, a.role, a.decision, a.version, a.retroactive, a.decided_at)
        .join(Change, Change.id == a.change_id)
        .join(User, User.id == a.approver_id)
    )
    live: Counter[tuple[str, ...]] = Counter(
        (key, email, role, decision, str(version), _when(retro), ledger.stamp(at))
        for key, email, role, decision, version, retro, at in rows
    )
    return _counted("approvals", derived.approvals, live)


def _when(retroactive: object) -> str:
    return "retroactive" if retroactive else "in time"


def _number(key: str) -> tuple[int, str]:
    digits = key.rpartition("-")[2]
    return (int(digits), key) if digits.isdigit() else (0, key)
