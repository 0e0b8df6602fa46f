"""Ledger records that speak for several population rows at once, read in one pass over
`ledger/ledger.jsonl`: a drift scan lists every drift it opened, an audit run every finding
it raised (since issue 12, with what each says), and the period's change records name the
changes that must be in the `changes` population."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from changegate.services.evidence.formats import JSONL
from changegate.services.evidence.reader import PackageReader, Unreadable

# Records whose subject is a change and whose time is a fixed column of a population row:
# a change created, decided, tested, deployed or rolled back then is active then.
CHANGE_ACTIVITY = re.compile(
    r"change\.created|change\.(approved|rejected)_by_(cab|iso)|test_run\.recorded"
    r"|deployment\.(started|rollback_recorded)"
)
FINDING_COLUMNS = ("key", "control", "rule", "subject", "occurred_at")


@dataclass
class Events:
    drifts: Counter[tuple[str, ...]] = field(default_factory=Counter)
    # Findings raised in the period: key -> (key, control, rule, subject, occurred_at).
    raised: dict[str, tuple[str, ...]] = field(default_factory=dict)
    changes: set[str] = field(default_factory=set)


def instant(value: str) -> str:
    """An ISO 8601 instant as the package's CSV writes it (UTC, microseconds)."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat(timespec="microseconds")


def scan(package: PackageReader, start: str, end: str) -> Events:
    out = Events()
    for n, line in package.lines(JSONL):
        r = record_of(line, n)
        if not start <= r.get("at", "") < end:
            continue
        action = r.get("action", "")
        if action == "drift.scanned":
            for e in r["payload"].get("events", []):
                if e.get("event") in ("opened", "reopened"):
                    out.drifts[
                        (str(e["drift"]), e["resource_type"], e["resource_id"], r["at"])
                    ] += 1
        elif action == "audit.run":
            for e in r["payload"].get("findings") or []:
                if "occurred_at" in e:  # created by this run (moved ones carry no instant)
                    row = (*(str(e[c]) for c in FINDING_COLUMNS[:-1]), instant(e["occurred_at"]))
                    out.raised[str(e["key"])] = row
        elif CHANGE_ACTIVITY.fullmatch(action):
            out.changes.add(str(r["subject"]))
    return out


def record_of(line: str, n: int) -> dict[str, Any]:
    """Line `n` of the ledger as a JSON object; Unreadable if it is not one."""
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise TypeError
        return record
    except (ValueError, TypeError):
        raise Unreadable(f"{JSONL} line {n}: not a JSON record") from None
