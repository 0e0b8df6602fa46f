"""Reading fields out of a CloudTrail record (a JSON object) without trusting its shape.

CloudTrail's record contents change by eventVersion and by service: any field may be absent or
null, and old records lack `readOnly` and `userIdentity.type`. Every reader here answers a plain
value or None, never raises on a missing or mistyped field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

Record = Mapping[str, object]


def text(record: Record, *path: str) -> str | None:
    """The string at `path` (e.g. "userIdentity", "arn"), or None."""
    value: object = record
    for key in path:
        # An exact type test first: parsed JSON is dicts, and the ABC check is slow.
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return nonempty(value)


def string(record: Record, key: str) -> str | None:
    """The string at `key` of one mapping, or None: `text` of a path of one key, for the
    fields read from every kept record."""
    return nonempty(record.get(key))


def nonempty(value: object) -> str | None:
    """`value` if it is a string with something in it, else None."""
    return value if isinstance(value, str) and value else None


def mapping(value: object) -> Record:
    """`value` if it is a JSON object, else an empty one (an exact type test first: parsed
    JSON is dicts, and the ABC check is slow)."""
    return value if type(value) is dict or isinstance(value, Mapping) else _NOTHING


def identity_of(record: Record) -> Record:
    """The record's `userIdentity`, or an empty mapping where it is missing or not one."""
    return mapping(record.get("userIdentity"))


_NOTHING: Record = {}


def flag(record: Record, key: str) -> bool | None:
    """A boolean field; CloudTrail writes some as strings ("false") in older records."""
    value = record.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def instant(value: str | None) -> datetime | None:
    """An ISO 8601 time in UTC (`2025-03-06T02:25:06Z`, with or without fractions), or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def event_time(record: Record) -> datetime | None:
    """`eventTime`; an export that renamed it (Elastic's `@timestamp`, as the OTRF data sets
    carry) is read too, so such an archive is not malformed."""
    return instant(text(record, "eventTime") or text(record, "@timestamp"))


@dataclass(frozen=True)
class Resource:
    arn: str
    type: str | None


def resources(record: Record) -> tuple[Resource, ...]:
    """The `resources` list: ARNs with their CloudFormation-style types, when the service sent
    them (not every service does)."""
    listed = record.get("resources")
    if not isinstance(listed, list):
        return ()
    out = []
    for item in listed:
        if isinstance(item, Mapping):
            arn = item.get("ARN") or item.get("arn")
            kind = item.get("type")
            if isinstance(arn, str) and arn:
                out.append(Resource(arn, kind if isinstance(kind, str) else None))
    return tuple(out)


# Widths of the stored columns (db/models/trail.py); a record past one is malformed, not cut.
WIDTHS = {"eventSource": 128, "eventName": 128}
EVENT_ID = 64
DIGEST_KEY = "sha256-"


def event_key(record: Record) -> str:
    """The record's `eventID`, the key it is stored by. Records of eventVersion 1.0 have none
    (the user guide's own 1.0 examples): those are keyed by the SHA-256 of their canonical JSON,
    so a file delivered twice still adds each record once."""
    given = record.get("eventID")
    if isinstance(given, str) and given:
        return given
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DIGEST_KEY + hashlib.sha256(canonical.encode()).hexdigest()[: EVENT_ID - len(DIGEST_KEY)]


def problem(record: Record) -> str | None:
    """Why a record that is an API call cannot be stored, or None."""
    if len(event_key(record)) > EVENT_ID:
        return f"eventID longer than {EVENT_ID} characters"
    for key, width in WIDTHS.items():
        value = record.get(key)
        if not isinstance(value, str) or not value:
            return f"no {key}"
        if len(value) > width:
            return f"{key} longer than {width} characters"
    if event_time(record) is None:
        return "no eventTime (or not an ISO 8601 time)"
    return None


def events_digest(stored: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex) of `(eventID, raw record as stored)` pairs, whatever their order: each
    pair's line is `eventID TAB sha256(raw)`, the lines sorted and joined by newlines. The
    ledger's `trail.ingested` record carries it for the events one ingest stored, so
    `ledger verify --state` can tell a stored event deleted, edited or added behind changegate's
    back."""
    lines = sorted(
        f"{event_id}\t{hashlib.sha256(raw.encode()).hexdigest()}" for event_id, raw in stored
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
