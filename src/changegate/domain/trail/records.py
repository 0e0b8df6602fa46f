"""Reading fields out of a CloudTrail record (a JSON object) without trusting its shape.

CloudTrail's record contents change by eventVersion and by service: any field may be absent or
null, and old records lack `readOnly` and `userIdentity.type`. Every reader here answers a plain
value or None, never raises on a missing or mistyped field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

Record = Mapping[str, object]


def text(record: Record, *path: str) -> str | None:
    """The string at `path` (e.g. "userIdentity", "arn"), or None."""
    value: object = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


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
