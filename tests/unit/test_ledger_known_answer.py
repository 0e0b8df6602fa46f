"""Known answers for the ledger's hash, written from the formats in docs/ledger.md, so changing
either canonical form (escaped non-ASCII, spaces, another timestamp format, another number or key
order) fails here and the auditor's recipe in docs/ledger.md stays true.

Form 1 (records written before migration 0010): Python's JSON, keys sorted, non-ASCII unescaped.
Form 2 (every record since): RFC 8785 (JCS), with `"canon":2` in the hashed object."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from changegate import ledger
from changegate.domain.errors import BadInput

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
        '{"title":"Düsseldorf → 東京"}',
        False,
        "0" * 64,
        canon=1,
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
        '{"version":2}',
        True,
        PINNED,
        canon=1,
    )
    assert digest == PINNED_OVERRIDE


# The same two records in form 2: the hashed object also names its form.
PINNED_2 = "bef4e88fef57b00c190a0dd4b280e5dc19a15cc14c43e71aeba5a58369781629"
BODY_2 = (
    '{"action":"change.created","actor":"zoë@example.com",'
    '"at":"2026-11-30T12:00:00.000000+00:00","canon":2,"clock_override":false,'
    '"payload":{"title":"Düsseldorf → 東京"},"prev":"' + "0" * 64 + '","subject":"CHG-1"}'
)
PINNED_OVERRIDE_2 = "454e8ee28a057cefa52530754a560891ab5a57d8c9e08c88b14bfb7ba97e2265"
BODY_OVERRIDE_2 = (
    '{"action":"change.approved","actor":"ivy@example.com",'
    '"at":"2026-11-30T12:00:00.000001+00:00","canon":2,"clock_override":true,'
    '"payload":{"version":2},"prev":"' + PINNED_2 + '","subject":"CHG-1"}'
)
# JCS where it differs from form 1: a float that is a whole number, an exponent, and keys
# sorted by UTF-16 code units (U+1F600 is D83D DE00, so it precedes U+E000).
PINNED_JCS = "c6478a65b173aabc59ba8bf3b1d2369e712d87c7258301885900e140655683c6"
BODY_JCS = (
    '{"action":"test.event","actor":"ivy@example.com",'
    '"at":"2026-11-30T12:00:00.000000+00:00","canon":2,"clock_override":false,'
    '"payload":{"ratio":100,"small":1e-7,"\U0001f600":1,"\ue000":2},"prev":"'
    + "0" * 64
    + '","subject":"CHG-1"}'
)


@pytest.mark.parametrize(
    ("body", "pinned"),
    [(BODY_2, PINNED_2), (BODY_OVERRIDE_2, PINNED_OVERRIDE_2), (BODY_JCS, PINNED_JCS)],
)
def test_the_hand_written_form_2_bodies_hash_to_their_pinned_digests(
    body: str, pinned: str
) -> None:
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == pinned


def test_form_2_records_hash_to_their_known_answers() -> None:
    first = ledger.record_hash(
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        "zoë@example.com",
        "change.created",
        "CHG-1",
        ledger.canonical({"title": "Düsseldorf → 東京"}),
        False,
        "0" * 64,
    )
    assert first == PINNED_2
    payload = ledger.canonical({"\ue000": 2, "small": 0.0000001, "\U0001f600": 1, "ratio": 100.0})
    assert payload == '{"ratio":100,"small":1e-7,"\U0001f600":1,"\ue000":2}'
    jcs = ledger.record_hash(
        datetime(2026, 11, 30, 12, tzinfo=UTC),
        "ivy@example.com",
        "test.event",
        "CHG-1",
        payload,
        False,
        "0" * 64,
    )
    assert jcs == PINNED_JCS


# RFC 8785's author's own sample (github.com/cyberphone/json-canonicalization, README), as the
# UTF-8 bytes it publishes in hexadecimal.
RFC8785_SAMPLE_IN = (
    '{"numbers": [1E30,4.50,6,2e-3,0.000000000000000000000000001],'
    ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
    ' "other": [null, true, false]}'
)
RFC8785_SAMPLE_OUT_HEX = (
    "7b 22 65 73 63 61 70 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c "
    "6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 2c 22 6e 75 6d 62 65 72 73 22 "
    "3a 5b 31 65 2b 33 30 2c 34 2e 35 2c 36 2c 30 2e 30 30 32 2c 31 65 2d 32 "
    "37 5d 2c 22 6f 74 68 65 72 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 "
    "6c 73 65 5d 7d"
)


def test_the_canonical_form_is_rfc_8785_on_its_authors_sample() -> None:
    value = json.loads(RFC8785_SAMPLE_IN)
    assert ledger.canonical(value).encode() == bytes.fromhex(RFC8785_SAMPLE_OUT_HEX)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**53, -(2**53)])
def test_what_jcs_cannot_represent_is_bad_input(value: object) -> None:
    with pytest.raises(BadInput, match="RFC 8785"):
        ledger.canonical({"n": value})


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
