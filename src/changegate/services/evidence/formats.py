"""The package's well-known paths and how values are written in it. Pure: the offline
verifier imports it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

FORMAT = "changegate-evidence/1"
MANIFEST = "manifest.json"
IPE = "populations/ipe.json"
XLSX = "populations/populations.xlsx"
JSONL = "ledger/ledger.jsonl"
CHECKPOINT = "ledger/checkpoint.json"
POLICY_DOCUMENT = "policy/policy.json"
POLICY_IN_FORCE = "policy/in_force.json"
POLICY_LEDGER = "policy/ledger.jsonl"
# The ledger action that puts a policy document in force (services/policy_history.py).
POLICY_IN_FORCE_ACTION = "policy.in_force"
FACTS = "audit/facts.json"
RESULTS = "audit/results.json"
FACTS_FORMAT = "changegate-audit-facts/1"


def policy_file(digest: str) -> str:
    return f"policy/documents/{digest}.json"


def population_file(name: str) -> str:
    return f"populations/{name}.csv"


def cell(value: object) -> str:
    """One CSV field: instants as ISO 8601 UTC with microseconds (the ledger's `at`), booleans
    as true/false, nothing as empty, JSON values as sorted compact JSON."""
    kind = type(value)  # exact types first: this runs for every field of a year's rows
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        at = value if value.tzinfo is UTC else value.astimezone(UTC)
        return at.isoformat(timespec="microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def dumps(value: Any) -> bytes:
    """JSON as the package writes it: sorted keys, two-space indent, UTF-8, final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def compact(value: Any) -> bytes:
    """Sorted compact JSON, for the large files (a year's facts run to tens of megabytes)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode() + b"\n"
