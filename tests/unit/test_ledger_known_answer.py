"""A known answer for the ledger's hash, written from the format in docs/ledger.md (canonical
JSON: sorted keys, no spaces, non-ASCII as UTF-8, not escaped), so switching the canonical form
(escaped non-ASCII, spaces, another timestamp format) fails here and the auditor's recipe in
docs/ledger.md stays true."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

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


# A second record, made under a simulated clock and linked to the first: `clock_override` is
# `true`, the instant was given an hour east of UTC and is hashed as UTC.
PINNED_OVERRIDE = "3961633d6fbf5a063c41027c569addcf8436592fd608dd2b52c77352d10b0402"
BODY_OVERRIDE = (
    '{"action":"change.approved","actor":"ivy@example.com",'
    '"at":"2026-11-30T12:00:00.000001+00:00","clock_override":true,'
    '"payload":{"version":2},"prev":"' + PINNED + '","subject":"CHG-1"}'
)


def test_the_hand_written_override_body_hashes_to_its_pinned_digest() -> None:
    assert hashlib.sha256(BODY_OVERRIDE.encode("utf-8")).hexdigest() == PINNED_OVERRIDE


def test_a_record_under_a_simulated_clock_hashes_to_its_known_answer() -> None:
    digest = ledger.record_hash(
        datetime(2026, 11, 30, 13, 0, 0, 1, tzinfo=timezone(timedelta(hours=1))),
        "ivy@example.com",
        "change.approved",
        "CHG-1",
        ledger.canonical({"version": 2}),
        True,
        PINNED,
    )
    assert digest == PINNED_OVERRIDE


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own time zone is not UTC (a laptop in Tokyo)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo")
def test_stamps_are_utc_whatever_the_machines_time_zone() -> None:
    assert time.localtime(0).tm_hour == 9, "the machine's zone is Tokyo for this test"
    kolkata = timezone(timedelta(hours=5, minutes=30))
    assert ledger.stamp(datetime(2026, 12, 1, 3, 4, 5, 7, tzinfo=kolkata)) == (
        "2026-11-30T21:34:05.000007+00:00"
    )
    assert ledger.stamp(datetime(2026, 11, 30, 12, tzinfo=UTC)) == (
        "2026-11-30T12:00:00.000000+00:00"
    )


# What a checkpoint's signature covers (docs/ledger.md): the canonical JSON of at, count,
# head_hash and seq, keys sorted, the instant as the ledger stamps it.
CHECKPOINT_MESSAGE = (
    b'{"at":"2026-11-30T12:00:00.000000+00:00","count":8,"head_hash":"'
    + PINNED.encode()
    + b'","seq":8}'
)


def test_the_signed_checkpoint_message_is_the_documented_bytes() -> None:
    berlin = timezone(timedelta(hours=1))
    at = datetime(2026, 11, 30, 13, tzinfo=berlin)
    assert ledger.checkpoint_message(8, PINNED, 8, at) == CHECKPOINT_MESSAGE
    # seq and count are two fields of the message, each in its place.
    assert ledger.checkpoint_message(9, PINNED, 8, at) == CHECKPOINT_MESSAGE.replace(
        b'"seq":8', b'"seq":9'
    )
