"""The live tables' state as the ledger alone implies it: a pure replay of ledger records.

`ledger_state` compares what this derives with the live rows. Each function reads only the
payloads the services write (changes.py, approvals.py, gate.py, deployments.py, waivers.py,
waiver_reviews.py; drifts, findings, baselines and reviews in `ledger_replay_detective`);
nothing here touches the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from changegate import ledger
from changegate.services.ledger_replay_detective import Detective, apply

# (at as `ledger.stamp` text, actor, action, subject, payload)
Record = tuple[str, str, str, str, dict[str, Any]]
FAMILIES = (
    *("change", "gate", "deployment", "waiver", "drift", "audit", "finding", "baseline"),
    "trail",
    "test_run",
)
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
VERSIONED = ("change.created", "change.edited", "change.submitted")
UNPROVEN = "(not recorded)"  # a field the ledger's record does not carry
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


@dataclass
class Replayed:
    """Rows keyed as their tables key them, every value as text; decisions (which have no key
    of their own) counted as described tuples ending with their instant."""

    changes: dict[str, dict[str, str]] = field(default_factory=dict)
    approvals: Counter[tuple[str, ...]] = field(default_factory=Counter)
    decisions: dict[int, dict[str, str]] = field(default_factory=dict)
    deployments: dict[int, dict[str, str]] = field(default_factory=dict)
    waivers: dict[str, dict[str, str]] = field(default_factory=dict)
    waiver_votes: Counter[tuple[str, ...]] = field(default_factory=Counter)
    detective: Detective = field(default_factory=Detective)
    # CloudTrail events stored, per ingest ("<source> at <instant>"): how many, and their digest.
    trail: dict[str, dict[str, str]] = field(default_factory=dict)
    # Drive files documenting a test run ("run N role fileId"): what Drive said of each (CM-4).
    workspace_files: dict[str, dict[str, str]] = field(default_factory=dict)


def replay(records: Iterable[Record]) -> Replayed:
    """The state `records` (in seq order) leave behind."""
    out = Replayed()
    for at, actor, action, key, payload in records:
        apply(out.detective, at, actor, action, key, payload)
        family = action.partition(".")[0]
        if family == "gate" and "decision_id" in payload:
            out.decisions[int(payload["decision_id"])] = _decision(at, actor, action, key, payload)
        elif family == "deployment":
            out.deployments[int(payload["deployment_id"])] = {
                column: str(payload.get(name)) for name, column in DEPLOYMENT_FIELDS.items()
            }
        elif family == "waiver":
            _waiver(out, at, actor, action, key, payload)
        elif family == "change":
            _change(out, at, actor, action, key, payload)
        elif family in ("test_run", "trail"):
            _evidence(out, at, action, key, payload)
    return out


def _evidence(out: Replayed, at: str, action: str, key: str, payload: dict[str, Any]) -> None:
    """Drive files documenting a test run (a filing lists its files; a verified Doc is the
    one file: services/workspace*.py), and the CloudTrail events each ingest stored (one
    file's record, or a group's listing its files: trail_ingest.ingest_files)."""
    if action in ("test_run.filed", "test_run.doc_verified"):
        for entry in payload.get("files", [payload]):
            out.workspace_files[workspace_key(payload["test_run_id"], entry)] = {
                "content_sha256": str(entry["content_sha256"]),
                "sha256": str(entry.get("sha256")),
                "version": str(entry["version"]),
                "drive_id": str(entry["drive_id"]),
                "recorded_at": at,
            }
    elif action == "trail.ingested":
        for entry in payload.get("files", [payload]):
            if int(entry.get("new", 0)):
                _ingested(out.trail, at, key, entry)


def workspace_key(test_run_id: object, entry: dict[str, Any]) -> str:
    return f"run {test_run_id} {entry['role']} {entry['file_id']}"


def _ingested(trail: dict[str, dict[str, str]], at: str, key: str, payload: dict[str, Any]) -> None:
    """One ingest's stored events (trail_ingest.py). Records before the digest was kept, or two
    ingests of one source at one instant (a frozen clock), are held to their count only."""
    group = f"{payload.get('source', key.removeprefix('source:'))} at {at}"
    digest = str(payload.get("events_sha256", UNPROVEN))
    if group in trail:
        count = int(trail[group]["events"]) + int(payload["new"])
        trail[group] = {"events": str(count), "events_sha256": UNPROVEN}
    else:
        trail[group] = {"events": str(int(payload["new"])), "events_sha256": digest}


def when(retroactive: object) -> str:
    return "retroactive" if retroactive else "in time"


def _change(
    out: Replayed, at: str, actor: str, action: str, key: str, payload: dict[str, Any]
) -> None:
    change = out.changes.setdefault(key, {"status": "(none)", "version": "0", "version_hash": ""})
    if action in STATUS_OF:
        change["status"] = STATUS_OF[action]
    if action == "change.edited":
        change["status"] = str(payload.get("status", change["status"]))
    if "hash" in payload and action in VERSIONED:
        change.update(version=str(int(payload["version"])), version_hash=str(payload["hash"]))
    if "_by_" in action:
        role, decision, version = (str(payload[k]) for k in ("role", "decision", "version"))
        vote = (key, actor, role, decision, version, when(payload.get("retroactive")), at)
        out.approvals[vote] += 1


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


def _waiver(
    out: Replayed, at: str, actor: str, action: str, key: str, payload: dict[str, Any]
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
