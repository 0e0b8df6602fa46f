"""A known answer for the ledger's hash, written from the format in docs/ledger.md (canonical
JSON: sorted keys, no spaces, non-ASCII as UTF-8, not escaped), so switching the canonical form
(escaped non-ASCII, spaces, another timestamp format) fails here and the auditor's recipe in
docs/ledger.md stays true."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from changegate import ledger

PINNED = "6ba2b1e26ce6b28059fe20a997b4981d72302613f4b39750bee2092f7e65e3e5"
# The exact bytes an auditor hashes for this record, typed out by hand.
BODY = (
    '{"action":"change.created","actor":"zoë@example.com",'
    '"at":"2026-11-30T12:00:00.000000+00:00","clock_override":false,'
    '"payload":{"title":"Düsseldorf → 東京"},"prev":"' + "0" * 64 + '","subject":"CHG-1"}'
)


def test_the_hand_written_body_hashes_to_the_pinned_digest() -> None:
    assert hashlib.sha256(BODY.encode("utf-8")).hexdigest() == PINNED


def test_the_ledger_hashes_a_non_ascii_record_to_the_known_answer() -> None:
    digest = ledger.record_hash(
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        "zoë@example.com",
        "change.created",
        "CHG-1",
        ledger.canonical({"title": "Düsseldorf → 東京"}),
        False,
        "0" * 64,
    )
    assert digest == PINNED
