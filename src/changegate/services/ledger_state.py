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
on it; every drift, finding, HR disciplinary action (its finding, who recorded it, when, and
the digest of its details), baseline version (and the digest of its resources) and signed
review (`ledger_replay_detective`, `ledger_state_detective`); and the CloudTrail events each
ingest stored, by count and digest (`ledger_state_trail`), and the Drive files documenting
test runs (`ledger_state_workspace`). docs/ledger.md lists the fields,
and those records written before issue 12 cannot prove.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

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
from changegate.services import ledger_state_detective as live
from changegate.services import ledger_state_trail as trail
from changegate.services import ledger_state_workspace as workspace
from changegate.services.ledger_replay import (
    DEPLOYMENT_FIELDS,
    FAMILIES,
    Record,
    Replayed,
    replay,
    when,
)

K = TypeVar("K", int, str)
CHECKED = (
    "changes",
    "approvals",
    "gate_decisions",
    "deployments",
    "waivers",
    "waiver_approvals",
    "drifts",
    "findings",
    "baselines",
    "baseline_resources",
    "reviews",
    "disciplinary_actions",
    "trail_events",
    "workspace_files",
)
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


def check(session: Session) -> list[Mismatch]:
    """Every difference between the state the ledger implies and the live rows, in table and
    key order; empty when they agree. Reads the ledger once and each checked table once."""
    derived: Replayed = replay(_records(session))
    found = derived.detective
    return [
        *_compare("changes", derived.changes, _live_changes(session)),
        *_counted("approvals", derived.approvals, _live_approvals(session)),
        *_compare("gate_decisions", derived.decisions, _live_decisions(session)),
        *_compare("deployments", derived.deployments, _live_deployments(session)),
        *_compare("waivers", derived.waivers, _live_waivers(session)),
        *_counted("waiver_approvals", derived.waiver_votes, _live_waiver_votes(session)),
        *_compare("drifts", found.drifts, live.drifts(session)),
        *_compare("findings", found.findings, live.findings(session)),
        *_compare("baselines", found.baselines, live.baselines(session)),
        *_compare("baseline_resources", found.baseline_resources, live.baseline_resources(session)),
        *_compare("reviews", found.reviews, live.reviews(session)),
        *_compare(
            "disciplinary_actions", found.disciplinary_actions, live.disciplinary_actions(session)
        ),
        *_compare("trail_events", derived.trail, trail.groups(session, derived.trail)),
        *_compare("workspace_files", derived.workspace_files, workspace.files(session)),
    ]


def _records(session: Session) -> Iterator[Record]:
    cols = LedgerRecord.__table__.c
    stmt = (
        select(cols.at, cols.actor, cols.action, cols.subject, cols.payload)
        .where(
            or_(
                *(cols.action.like(f"{family}.%") for family in FAMILIES),
                # Signed reviews, whatever their action (`ledger_replay_detective.is_review`).
                cols.payload.like('%"review_id"%'),
            )
        )
        .order_by(cols.seq)
        .execution_options(yield_per=ledger.BATCH)
    )
    for at, actor, action, subject, payload in session.execute(stmt):
        yield ledger.stamp(at), actor, action, subject, json.loads(payload)


def _compare(
    table: str, derived: Mapping[K, dict[str, str]], live: Mapping[K, dict[str, str]]
) -> Iterator[Mismatch]:
    """Rows keyed by id (shown as #id) or by key: present on one side only, or differing in a
    field."""
    for key in sorted(set(derived) | set(live), key=_order):
        shown = f"#{key}" if isinstance(key, int) else str(key)
        want, have = derived.get(key), live.get(key)
        if want is None or have is None:
            present = tuple("(none)" if row is None else "present" for row in (want, have))
            yield Mismatch(table, shown, "row", *present)
            continue
        for name, value in want.items():
            if value != have[name]:
                yield Mismatch(table, shown, name, value, have[name])


def _counted(
    table: str, derived: Counter[tuple[str, ...]], live: Counter[tuple[str, ...]]
) -> Iterator[Mismatch]:
    """Rows without a key of their own (decisions), described, that one side lacks."""
    missing, extra = derived - live, live - derived
    for row in sorted(missing | extra, key=lambda r: (_order(r[0]), r[-1], r[1])):
        described = " ".join(row[1:-1]) + f" at {row[-1]}"
        on_ledger = row in missing
        ledger_side, live_side = (described, "(none)") if on_ledger else ("(none)", described)
        yield Mismatch(table, row[0], "row", ledger_side, live_side)


def _order(key: int | str) -> tuple[int, str]:
    """Keys in number order (CHG-9 before CHG-10), ids as they are."""
    if isinstance(key, int):
        return key, ""
    digits = key.rpartition("-")[2]
    return (int(digits), key) if digits.isdigit() else (0, key)


def _live_changes(session: Session) -> dict[str, dict[str, str]]:
    rows = session.execute(select(Change.key, Change.status, Change.version, Change.version_hash))
    return {
        key: {"status": status, "version": str(version), "version_hash": version_hash}
        for key, status, version, version_hash in rows
    }


def _live_approvals(session: Session) -> Counter[tuple[str, ...]]:
    a = Approval
    rows = session.execute(
        select(Change.key, User.email, a.role, a.decision, a.version, a.retroactive, a.decided_at)
        .join(Change, Change.id == a.change_id)
        .join(User, User.id == a.approver_id)
    )
    return Counter(
        (key, email, role, decision, str(version), when(retro), ledger.stamp(at))
        for key, email, role, decision, version, retro, at in rows
    )


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
