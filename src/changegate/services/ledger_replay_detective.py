"""The detective half's state as the ledger alone implies it: drifts, findings (and HR's
disciplinary actions on them, by a digest of their details), baselines and signed reviews,
replayed from the payloads drift.py, baselines.py, audits.py, findings.py, reviews.py and
lifecycle.py write. Pure: nothing here touches the database.

Fields a record does not carry are left out of the row, so they are not compared: records
written before a payload grew a field (issue 12) replay without false mismatches, and prove
less. Every value is text; instants as `ledger.stamp` prints them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from changegate import ledger

Row = dict[str, str]
# Review kinds whose signing action does not name them (`review.<kind>` names its own).
REVIEW_KINDS = {"change.pir_recorded": "pir", "baseline.verified": "baseline_verification"}
CHANGE_KEY = re.compile(r"^CHG-\d+$")
FINDING_ACTIONS = ("finding.confirmed", "finding.dismissed", "finding.remediated")


@dataclass
class Detective:
    drifts: dict[int, Row] = field(default_factory=dict)
    findings: dict[str, Row] = field(default_factory=dict)
    baselines: dict[str, Row] = field(default_factory=dict)  # keyed "name vN"
    baseline_resources: dict[str, Row] = field(default_factory=dict)  # count, sha256
    reviews: dict[int, Row] = field(default_factory=dict)
    disciplinary_actions: dict[int, Row] = field(default_factory=dict)


def digest(value: Any) -> str:
    """SHA-256 of Python's sorted, compact JSON of `value` (any JSON value the tables hold,
    integers past 2**53 included, which RFC 8785 refuses)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def finding_sha256(
    fingerprint: str, summary: str, evidence: Sequence[str], attributes: Mapping[str, Any]
) -> str:
    """What a finding says, pinned: its fingerprint, summary, evidence and attributes."""
    return digest([fingerprint, summary, list(evidence), dict(attributes)])


def details_sha256(person: str, action: str, notes: str) -> str:
    """A disciplinary action's details, pinned without stating them: the ledger is read by
    auditors, the details are HR's (json.dumps with sorted keys and its default separators)."""
    details = json.dumps({"person": person, "action": action, "notes": notes}, sort_keys=True)
    return hashlib.sha256(details.encode()).hexdigest()


def resources_sha256(resources: Sequence[tuple[str, str, str | None, Any, str]]) -> str:
    """A baseline's declared resources in id order: (type, id, logical id, properties, where
    the id came from)."""
    return digest([list(r) for r in resources])


def is_review(payload: Mapping[str, Any]) -> bool:
    """A record that signs a stored review: it names the row and pins its text."""
    return "review_id" in payload and ("sha256" in payload or "summary" in payload)


def instant(text: object) -> str:
    return ledger.stamp(datetime.fromisoformat(str(text))) if text else "None"


def seconds(value: object) -> str:
    # RFC 8785 prints 3600.0 as 3600; the column gives back a float.
    return "None" if value is None else str(float(str(value)))


def apply(
    out: Detective, at: str, actor: str, action: str, key: str, payload: dict[str, Any]
) -> None:
    """One record's effect, if it is about a drift, finding, baseline or review."""
    if is_review(payload):
        _review(out, at, actor, action, key, payload)
    if action == "drift.scanned":
        for event in payload.get("events") or []:
            _drift_event(out.drifts, at, event)
    elif action == "drift.rebaselined" and key.partition(":")[2].isdigit():
        out.drifts.setdefault(int(key.partition(":")[2]), {}).update(
            status="rebaselined", closed_at=at
        )
    elif action == "audit.run":
        _audit_run(out.findings, at, key, payload)
    elif action in FINDING_ACTIONS:
        _finding(out.findings.setdefault(key, {}), at, actor, action, payload)
    elif action == "finding.disciplinary_action":
        out.disciplinary_actions[int(payload["action_id"])] = {
            "finding": key,
            "recorded_by": actor,
            "recorded_at": at,
            "details_sha256": str(payload["details_sha256"]),
        }
    elif action in ("baseline.imported", "baseline.approved"):
        _baseline(out, at, actor, action, key.partition(":")[2], payload)


def _drift_event(drifts: dict[int, Row], at: str, event: Mapping[str, Any]) -> None:
    if "drift" not in event:
        return
    drift_id, kind = int(event["drift"]), event.get("event")
    if kind in ("opened", "reopened"):
        row = {
            "resource_type": str(event["resource_type"]),
            "resource_id": str(event["resource_id"]),
            "status": "open",
            "differences": json_text(event["differences"]),
            "authorised_by": str(event.get("authorised_by")),
            "detected_at": at,
            "due_at": instant(event.get("due_at")),
            "closed_at": "None",
            "remediation_seconds": "None",
        }
        # Carried since issue 12; older scans do not say them.
        for name in ("baseline_resource_id", "observation_id", "reopened"):
            if name in event:
                row[name] = str(event[name])
        drifts[drift_id] = row
    elif kind == "remediated":
        row = drifts.setdefault(drift_id, {})
        took = float(event["remediation_seconds"])
        row.update(status="remediated", remediation_seconds=seconds(took))
        if event.get("closed_at"):
            row["closed_at"] = instant(event["closed_at"])
        elif "detected_at" in row:  # older scans: closed = detected + the seconds it took
            opened = datetime.fromisoformat(row["detected_at"])
            row["closed_at"] = ledger.stamp(opened + timedelta(seconds=took))


def _audit_run(findings: dict[str, Row], at: str, key: str, payload: Mapping[str, Any]) -> None:
    """`raised`: the findings this run created; `findings` (since issue 12): what each created
    one says and every undecided one the run moved in or out of a waiver."""
    run_id = key.partition(":")[2]
    for raised in payload.get("raised") or []:
        findings[str(raised)] = {"first_run_id": run_id, "first_detected_at": at}
    for entry in payload.get("findings") or []:
        row = findings.setdefault(str(entry["key"]), {})
        for name in ("control", "rule", "subject", "status", "sha256"):
            if name in entry:
                row[name] = str(entry[name])
        if "waiver" in entry:
            row["waiver_key"] = str(entry["waiver"])
        if "occurred_at" in entry:
            row["occurred_at"] = instant(entry["occurred_at"])
        if entry.get("reported"):
            row["reported_at"] = at
        elif "occurred_at" in entry:  # created unreported: suppressed from the start
            row["reported_at"] = "None"


def _finding(row: Row, at: str, actor: str, action: str, payload: Mapping[str, Any]) -> None:
    if action == "finding.confirmed":
        row.update(status="confirmed", decided_by=actor, decided_at=at)
        row["remediation_due_at"] = instant(payload.get("remediation_due_at"))
        if "calendar" in payload:
            row["due_calendar"] = json_text(payload["calendar"])
    elif action == "finding.dismissed":
        row.update(status="dismissed", decided_by=actor, decided_at=at)
        row["dismissal_reason"] = str(payload["reason"])
    elif action == "finding.remediated":
        row.update(status="closed", remediated_by=actor, remediated_at=at)
        row.update(remediation_kind=str(payload["kind"]), remediation=str(payload["description"]))


def _baseline(
    out: Detective, at: str, actor: str, action: str, name: str, payload: Mapping[str, Any]
) -> None:
    version = f"{name} v{payload.get('version')}"
    if action == "baseline.imported":
        row = {
            "status": "draft",
            "source_ref": str(payload["source_ref"]),
            "source_sha256": str(payload["sha256"]),
            "author": actor,
            "created_at": at,
            "approver": "None",
            "approved_at": "None",
            "change_key": "None",
        }
        if "source" in payload:
            row["source"] = str(payload["source"])
        out.baselines[version] = row
        resources = {"count": str(payload["resources"])}
        if "resources_sha256" in payload:
            resources["sha256"] = str(payload["resources_sha256"])
        out.baseline_resources[version] = resources
    elif action == "baseline.approved":
        out.baselines.setdefault(version, {}).update(
            status="approved", approver=actor, approved_at=at, change_key=str(payload.get("change"))
        )
        for old in payload.get("replaces") or []:
            out.baselines.setdefault(f"{name} v{old}", {})["status"] = "superseded"


def _review(
    out: Detective, at: str, actor: str, action: str, key: str, payload: Mapping[str, Any]
) -> None:
    pinned = payload.get("sha256")
    if pinned is None:  # PIRs carry their text itself
        pinned = hashlib.sha256(str(payload["summary"]).encode()).hexdigest()
    row = {
        "author": actor,
        "recorded_at": at,
        "sha256": str(pinned),
        "change": key if CHANGE_KEY.match(key) else "None",
    }
    kind = REVIEW_KINDS.get(action)
    if kind is None and action.startswith("review."):
        kind = action.partition(".")[2]
    if kind is not None:
        row["kind"] = kind
    out.reviews[int(payload["review_id"])] = row
