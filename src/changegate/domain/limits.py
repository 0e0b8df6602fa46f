"""Widths several layers share: a column, the API schema and the CLI read the same number.

AWS's documented maxima: a Config resource type is at most 256 characters and a resource id at
most 768 (AWS Config API reference, ResourceIdentifier and PutResourceConfig); an ARN at most
2048 (IAM API reference). Derived widths are written as what they are built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from changegate.domain.errors import BadInput

RESOURCE_TYPE: Final = 256
RESOURCE_ID: Final = 768
ARN: Final = 2048
# "resource:<type>:<id>", the widest subject an audit rule names.
FINDING_SUBJECT: Final = len("resource:") + RESOURCE_TYPE + 1 + RESOURCE_ID
RULE: Final = 60
FINGERPRINT: Final = RULE + 1 + FINDING_SUBJECT  # "<rule>|<subject>"
# What a ledger record is about: "user:<email>" (320) and shorter keys. Longer subjects (text
# from a peer, such as a repository name GitHub sends) are cut on purpose, never refused: the
# record's payload holds them whole.
LEDGER_SUBJECT: Final = 500

TRAIL_SOURCE: Final = 1024  # the log file or S3 key a CloudTrail record came from, or "api"
# trail_events (db/models/trail.py): each text column and its width (None: unbounded). Here,
# not only in the model, because a CloudTrail log is read and its rows checked in worker
# processes that import no database code (services/trail_parse.py).
TRAIL_EVENT: Final[Mapping[str, int | None]] = MappingProxyType(
    {
        "event_id": 64,
        "event_source": 128,
        "event_name": 128,
        "account": 12,
        "region": 32,
        "environment": 40,
        "kind": 10,
        "actor_kind": 12,
        "principal": ARN,
        "actor_name": ARN,
        "change_key": 40,
        "error_code": 256,
        "source": TRAIL_SOURCE,
        "raw": None,
    }
)


def check_text(widths: Iterable[tuple[str, int | None]], values: Mapping[str, Any]) -> None:
    """What PostgreSQL refuses, refused on both databases as bad input, so SQLite never keeps
    what PostgreSQL would not: NUL in text, and text longer than its column (`widths`: each
    column's key and width, None for unbounded). A writer that may exceed one truncates on
    purpose.

    Raises BadInput naming the column."""
    for key, width in widths:
        value = values.get(key)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise BadInput(f"{key}: text may not contain NUL characters")
        if width is not None and len(value) > width:
            raise BadInput(f"{key}: at most {width} characters, not {len(value)}")
