"""Offline checks of `ledger/`: the chain from its signed checkpoint, and the populations
against the ledger's records of the period, both ways.

Hashes are re-computed as docs/ledger.md tells an auditor to (form 2: RFC 8785; form 1:
Python's sorted JSON), independently of changegate's own ledger module.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from changegate.services.evidence import signing, verify_events
from changegate.services.evidence.formats import (
    CHECKPOINT,
    JSONL,
    POLICY_IN_FORCE_ACTION,
    population_file,
)
from changegate.services.evidence.reader import PackageReader
from changegate.services.evidence.verify_events import record_of

GENESIS = "0" * 64
FIELDS = ("action", "actor", "at", "clock_override", "payload", "prev", "subject")
APPROVAL = re.compile(r"change\.(approved|rejected)_by_(cab|iso)")
SHOWN = 5  # differences named per population; the rest are counted


@dataclass
class Chain:
    """What the chain check learnt: its problems, and the period's records by family."""

    problems: list[str] = field(default_factory=list)
    walked: bool = False  # every line hashed and linked: its events can be trusted
    events: dict[str, Counter[tuple[str, ...]]] = field(default_factory=dict)
    hashes: dict[int, str] = field(default_factory=dict)  # seq -> hash of every line walked
    # (seq, at) of each `policy.in_force` record walked, whenever it was made.
    policy: list[tuple[int, str]] = field(default_factory=list)


def record_hash(record: Mapping[str, Any]) -> str:
    form = record["canon"]
    body = {k: record[k] for k in FIELDS}
    if form >= 2:
        data = rfc8785.dumps({**body, "canon": form})
    else:
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def checkpoint_ok(cp: Mapping[str, Any], key: str) -> bool:
    at = datetime.fromisoformat(str(cp["at"])).astimezone(UTC).isoformat(timespec="microseconds")
    body = {"count": cp["count"], "head_hash": cp["head_hash"], "seq": cp["seq"], "at": at}
    return cp.get("public_key") == key and signing.valid(
        rfc8785.dumps(body), str(cp.get("signature") or ""), key
    )


def chain(package: PackageReader, manifest: Mapping[str, Any]) -> Chain:
    """Walk `ledger/ledger.jsonl` from `ledger/checkpoint.json`; collect the period's events."""
    out = Chain()
    cp = package.json(CHECKPOINT)
    if not checkpoint_ok(cp, str(manifest.get("public_key"))):
        out.problems.append(f"{CHECKPOINT}: not signed by the manifest's key")
    start, end = manifest["period"]["start"], manifest["period"]["end"]
    first = int(manifest["ledger"]["first_seq"])
    anchored_at_start = int(cp["seq"]) == first - 1
    if not anchored_at_start and first != 1:
        out.problems.append(f"{CHECKPOINT}: seq {cp['seq']} does not anchor seq {first}")
    prev, seq, hashes = (cp["head_hash"] if anchored_at_start else GENESIS), first - 1, out.hashes
    families = _families()
    for n, line in package.lines(JSONL):
        record = record_of(line, n)
        seq += 1
        problem = _link(record, seq, prev)
        if problem:
            out.problems.append(f"{JSONL} line {n}: {problem}")
            return out
        prev = record["hash"]
        hashes[seq] = prev
        _collect(out, record, families, start <= record["at"] < end)
    out.walked = True
    if seq != int(manifest["ledger"]["last_seq"]):
        out.problems.append(f"{JSONL}: ends at seq {seq}, the manifest says {manifest['ledger']}")
    if not anchored_at_start and int(cp["seq"]) and hashes.get(int(cp["seq"])) != cp["head_hash"]:
        out.problems.append(f"{JSONL}: seq {cp['seq']} differs from {CHECKPOINT}")
    return out


def _collect(out: Chain, record: Mapping[str, Any], families: dict[str, Key], within: bool) -> None:
    if record["action"] == POLICY_IN_FORCE_ACTION:
        out.policy.append((record["seq"], record["at"]))
    if within:
        for name, key in families.items():
            found = key(record)
            if found is not None:
                out.events.setdefault(name, Counter())[found] += 1


def _link(record: Mapping[str, Any], seq: int, prev: str) -> str | None:
    try:
        if record["seq"] != seq:
            return f"seq {record['seq']} where seq {seq} was due (deleted or inserted)"
        if record_hash(record) != record["hash"]:
            return f"seq {seq} does not match its hash (edited)"
    except (KeyError, TypeError, rfc8785.CanonicalizationError):
        return f"seq {seq} is not a ledger record"
    if record["prev"] != prev:
        return f"seq {seq} does not link to the record before it"
    return None


Key = Callable[[Mapping[str, Any]], tuple[str, ...] | None]


def _families() -> dict[str, Key]:
    """Per population, the key of a ledger record that must be one of its rows."""
    return {
        "approvals": _approval,
        "gate_decisions": _decision,
        "deployments": _deployment,
        "waiver_approvals": _waiver_vote,
        "cab_decisions": _cab_decision,
    }


def _approval(r: Mapping[str, Any]) -> tuple[str, ...] | None:
    if not APPROVAL.fullmatch(r["action"]):
        return None
    p = r["payload"]
    flag = "true" if p.get("retroactive") else "false"
    return (r["subject"], r["actor"], p["role"], p["decision"], str(p["version"]), flag, r["at"])


def _decision(r: Mapping[str, Any]) -> tuple[str, ...] | None:
    if r["action"] not in ("gate.allowed", "gate.denied") or "decision_id" not in r["payload"]:
        return None
    p, allowed = r["payload"], "true" if r["action"] == "gate.allowed" else "false"
    return (str(p["decision_id"]), r["subject"], p["environment"], p["commit"], allowed, r["at"])


def _deployment(r: Mapping[str, Any]) -> tuple[str, ...] | None:
    if r["action"] not in ("deployment.started", "deployment.rollback_recorded"):
        return None
    p = r["payload"]
    return (str(p["deployment_id"]), r["subject"], p["environment"], p["kind"], r["at"])


def _waiver_vote(r: Mapping[str, Any]) -> tuple[str, ...] | None:
    if r["action"] not in ("waiver.approved", "waiver.rejected"):
        return None
    p = r["payload"]
    return (r["subject"], r["actor"], p["role"], p["decision"], str(p["round"]), r["at"])


def _cab_decision(r: Mapping[str, Any]) -> tuple[str, ...] | None:
    if r["action"] != "cab.item_decided" or "decision_id" not in r["payload"]:
        return None
    p = r["payload"]
    meeting = r["subject"].removeprefix("cab_meeting:")
    approval = "" if p.get("approval_id") is None else str(p["approval_id"])
    return (
        *(str(p["decision_id"]), meeting, p["change"], r["actor"], p["role"], p["outcome"]),
        *(str(p["version"]), approval, r["at"]),
    )


# Per population, the CSV columns that make up the same key as the ledger's.
COLUMNS: dict[str, tuple[str, ...]] = {
    "approvals": (
        "change_key",
        "approver",
        "role",
        "decision",
        "version",
        "retroactive",
        "decided_at",
    ),
    "gate_decisions": ("id", "change_key", "environment", "commit", "allowed", "decided_at"),
    "deployments": ("id", "change_key", "environment", "kind", "started_at"),
    "waiver_approvals": ("waiver_key", "approver", "role", "decision", "round", "decided_at"),
    "drifts": ("id", "resource_type", "resource_id", "detected_at"),
    "cab_decisions": (
        "id",
        "meeting_id",
        "change_key",
        "decider",
        "role",
        "outcome",
        "version",
        "approval_id",
        "decided_at",
    ),
}


def against_populations(
    package: PackageReader, manifest: Mapping[str, Any], found: Chain
) -> list[str]:
    """Every ledger event of the period is a population row with the same key, and back."""
    start, end = manifest["period"]["start"], manifest["period"]["end"]
    events = verify_events.scan(package, start, end)
    found.events["drifts"] = events.drifts
    problems: list[str] = []
    for name, columns in COLUMNS.items():
        path = population_file(name)
        rows = Counter(tuple(row.get(c, "") for c in columns) for row in package.rows(path))
        problems += _differences(path, found.events.get(name, Counter()), rows)
    return problems + _findings(package, events, start, end) + _changes(package, events)


def _findings(
    package: PackageReader, events: verify_events.Events, start: str, end: str
) -> list[str]:
    """Raised in the period, both ways: every finding an audit run of the period raised for
    something that occurred in it is a row, and every row first detected in the period was
    raised by one of its runs."""
    path, columns = population_file("findings"), verify_events.FINDING_COLUMNS
    raised = Counter(row for row in events.raised.values() if start <= row[-1] < end)
    rows: Counter[tuple[str, ...]] = Counter()
    for row in package.rows(path):
        if start <= verify_events.instant(row["first_detected_at"]) < end:
            rows[(*(row[c] for c in columns[:-1]), verify_events.instant(row["occurred_at"]))] += 1
    return _differences(path, raised, rows)


def _changes(package: PackageReader, events: verify_events.Events) -> list[str]:
    """One way: a change the period's records name as created, decided, tested or deployed is a
    row (a row may be active for reasons the ledger states elsewhere: a deadline falling due)."""
    path = population_file("changes")
    keys = {row["key"] for row in package.rows(path)}
    missing: Counter[tuple[str, ...]] = Counter((k,) for k in events.changes - keys)
    return _differences(path, missing, Counter())


def _differences(
    path: str, ledger: Counter[tuple[str, ...]], rows: Counter[tuple[str, ...]]
) -> list[str]:
    missing, extra = ledger - rows, rows - ledger
    out = [f"{path}: in the ledger, not in the population: {' '.join(k)}" for k in _few(missing)]
    out += [f"{path}: in the population, not in the ledger: {' '.join(k)}" for k in _few(extra)]
    more = sum(missing.values()) + sum(extra.values()) - len(out)
    if more > 0:
        out.append(f"{path}: and {more} more differences from the ledger")
    return out


def _few(keys: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return sorted(keys)[:SHOWN]
