"""CloudTrail files as delivered, read a record at a time (integrations/cloudtrail.py).

Shapes: the real samples (S3 `Records` files plain and gzipped, NDJSON, single documents,
digest files) and EventBridge's "AWS API Call via CloudTrail" envelope as the EventBridge user
guide documents it, with a real record as its `detail`.
"""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import zlib
from typing import Any

import pytest

from changegate.domain.trail.actors import AccountMapping, TrailRules
from changegate.integrations.cloudtrail import CUT, WHOLE, Item, Malformed, Skipped, read, reads
from changegate.services.trail_parse import _kinds, parse
from tests.fixtures import files, fixture
from tests.trail_logs import ORG_SAMPLE

OTRF = fixture(
    "cloudtrail", "otrf-security-datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"
)
WEB_IDENTITY = fixture(
    "cloudtrail",
    "ccbrown-cloud-snitch",
    "backend__report__aws_cloudtrail_test.go__TestReport_WebIdentityUserEvent.json",
)


def envelope(detail: Any, kind: str = "AWS API Call via CloudTrail") -> dict[str, Any]:
    """An EventBridge event as the EventBridge user guide shows one (CloudTrail-delivered)."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": kind,
        "source": "aws.sts",
        "account": "774305579662",
        "time": "2025-04-16T02:46:56Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def all_of(data: bytes) -> list[Any]:
    return list(read(io.BytesIO(data)))


def test_ndjson_keeps_the_lines_after_a_bad_one_and_names_its_line() -> None:
    lines = OTRF.read_bytes().splitlines()
    broken = b"\n".join([*lines[:10], b'{"eventVersion": "1.05", "eventID": ', *lines[10:]])
    found = all_of(broken)
    assert [f for f in found if isinstance(f, Malformed)] == [
        Malformed("line 11", "unexpected end of data: line 1 column 36 (char 35)")
    ]
    assert len([f for f in found if isinstance(f, Item)]) == len(lines) == 103


def test_a_truncated_records_file_keeps_what_came_before() -> None:
    records = json.loads(
        gzip.decompress(
            fixture(
                "cloudtrail",
                "ccbrown-cloud-snitch",
                "aws-cloudtrail-logs",
                "AWSLogs",
                "o-1234abcde",
                "222222222222",
                "CloudTrail",
                "us-east-1",
                "2025",
                "03",
                "06",
                "222222222222_CloudTrail_us-east-1_20250306T0230Z_QF6qcgyiaVnSueXa.json.gz",
            ).read_bytes()
        )
    )["Records"]
    whole = json.dumps({"Records": records}).encode()
    cut = whole[: whole.index(records[5]["eventID"].encode())]
    found = all_of(gzip.compress(cut))
    assert [f.position for f in found if isinstance(f, Item)] == [1, 2, 3, 4, 5]
    [stop] = [f for f in found if isinstance(f, Malformed)]
    assert stop.where.startswith("record 6 (near byte ")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (envelope(json.loads(WEB_IDENTITY.read_text())), "record"),
        (envelope({"eventName": "x"}, "EC2 Instance State-change Notification"), "skipped"),
        (envelope(None), "skipped"),
        ([1, 2], "skipped"),
    ],
    ids=["api call", "not from CloudTrail", "no detail", "not an object"],
)
def test_eventbridge_envelopes(document: Any, expected: str) -> None:
    [found] = all_of(json.dumps(document).encode())
    assert ("record" if isinstance(found, Item) else "skipped") == expected
    if isinstance(found, Item):
        assert found.record["eventID"] == "ef0464cd-918e-4528-9ea3-1a081d39b393"


def test_eventbridge_events_one_a_line() -> None:
    detail = json.loads(WEB_IDENTITY.read_text())
    data = b"\n".join(
        json.dumps(envelope(detail | {"eventID": f"e{n}"})).encode() for n in range(3)
    )
    assert [f.record["eventID"] for f in all_of(data) if isinstance(f, Item)] == ["e0", "e1", "e2"]


def test_a_digest_file_is_skipped() -> None:
    digest = fixture(
        "cloudtrail",
        "aws-docs-cloudtrail-user-guide",
        "log-file-validation-digest-file-structure__01__cloudtrail-log-file-validation-digest-file-contents.json",
    )
    assert all_of(digest.read_bytes()) == [Skipped(1, "a CloudTrail digest file")]


def test_memory_does_not_grow_with_the_file() -> None:
    """A 40,000-record file (about 40 MB of JSON, past the bound for parsing it whole) read
    through: the reader holds the compressed bytes it looked at and one record."""
    record = json.loads(OTRF.read_bytes().splitlines()[0])
    body = b'{"Records":[' + b",".join([json.dumps(record).encode()] * 40_000) + b"]}"
    packed = gzip.compress(body, compresslevel=1)
    assert len(body) > 30_000_000 > WHOLE
    tracemalloc.start()
    try:
        n = sum(1 for f in read(io.BytesIO(packed)) if isinstance(f, Item))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 40_000
    assert peak < len(packed) + 2_000_000, f"reading held {peak:,} bytes at its peak"


def ndjson(records: list[Any]) -> list[bytes]:
    return [json.dumps(r).encode() + b"\n" for r in records]


def documents(records: list[Any]) -> list[bytes]:
    return [json.dumps(r, indent=1).encode() for r in records]


def cut_where_it_ends(parts: list[bytes], keep: int) -> bytes:
    """A gzip file of `parts`, flushed after each (as a writer that dies mid-file leaves it),
    cut right after the first `keep` of them: what it holds decodes cleanly, and only the
    missing end-of-stream marker says the rest is gone."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = b"".join(deflate.compress(p) + deflate.flush(zlib.Z_FULL_FLUSH) for p in parts[:keep])
    return out


def shapes() -> list[tuple[str, bytes]]:
    """Every real sample, the organisation sample's file as delivered, and damaged copies."""
    found = [(p.name, p.read_bytes()) for p in sorted(files("cloudtrail", "**/*.json*"))]
    org = gzip.decompress(dict(found)[ORG_SAMPLE])
    records = json.loads(org)["Records"]
    return [
        *found,
        ("truncated gzip", gzip.compress(org)[:-40]),
        ("gzip NDJSON cut where a line ends", cut_where_it_ends(ndjson(records), 7)),
        ("gzip documents cut where one ends", cut_where_it_ends(documents(records), 7)),
        ("cut JSON", gzip.compress(org[: len(org) // 2])),
        ("two gzip members", gzip.compress(org[:100]) + gzip.compress(org[100:])),
        ("trailing garbage", org + b"]"),
        ("empty", b""),
        ("pretty-printed", json.dumps({"Records": records[:3]}, indent=2).encode()),
        ("Records not a list", b'{"Records": 5}'),
    ]


SHAPES = shapes()


def test_the_shapes_are_there() -> None:
    assert len(SHAPES) > 30


def test_a_gzip_file_cut_short_keeps_the_records_before_the_cut() -> None:
    org = gzip.decompress(dict(SHAPES)[ORG_SAMPLE])
    found = all_of(gzip.compress(org)[: len(gzip.compress(org)) * 2 // 3])
    *items, stop = found
    assert 5 < len(items) < 20 and all(isinstance(i, Item) for i in items)
    assert isinstance(stop, Malformed) and stop.where.startswith(f"record {len(items) + 1} ")


@pytest.mark.parametrize("split", [ndjson, documents])
def test_a_gzip_file_cut_where_a_record_ends_says_so(split: Any) -> None:
    """Nothing fails to parse, yet the records after the cut are missing: the missing gzip
    end-of-stream marker is reported after the records that are there, which are kept."""
    records = json.loads(gzip.decompress(dict(SHAPES)[ORG_SAMPLE]))["Records"]
    *items, stop = all_of(cut_where_it_ends(split(records), 7))
    assert [i.record for i in items if isinstance(i, Item)] == records[:7] and len(items) == 7
    assert isinstance(stop, Malformed) and stop.detail == CUT, stop
    whole = gzip.compress(b"".join(split(records)))
    assert not any(isinstance(r, Malformed) for r in all_of(whole))


def test_an_integer_past_64_bits_is_read_as_a_float_in_a_file_read_whole() -> None:
    """orjson reads it as a float; the streaming parser (yajl) stops there, so a file past the
    bound reports that record as malformed. CloudTrail writes no such number."""
    record = json.loads(WEB_IDENTITY.read_text()) | {"n": 2**70}
    data = json.dumps({"Records": [record]}).encode()
    [whole] = all_of(data)
    assert isinstance(whole, Item) and whole.record["n"] == float(2**70)
    [streamed] = list(read(io.BytesIO(data), whole=0))
    assert isinstance(streamed, Malformed) and "overflow" in streamed.detail


@pytest.mark.parametrize(("name", "data"), SHAPES, ids=[n[:50] for n, _ in SHAPES])
def test_a_file_read_whole_reads_as_it_does_streamed(name: str, data: bytes) -> None:
    """Under the bound a file is parsed in one call; over it, a record at a time. Both give the
    same records, skips and stops, whatever the file."""
    assert all_of(data) == list(read(io.BytesIO(data), whole=0)), name


# Every account of the samples in production, so the comparison covers the cover list too.
EVERYWHERE = TrailRules(
    accounts=tuple(
        AccountMapping(a, "production")
        for a in ("123456789012", "111122223333", "774305579662", "123456789123", "222222222222")
    ),
    production=frozenset({"production"}),
)


@pytest.mark.parametrize(("name", "data"), SHAPES, ids=[n[:50] for n, _ in SHAPES])
def test_a_records_array_handed_over_whole_is_taken_as_record_by_record(
    name: str, data: bytes
) -> None:
    """trail ingest takes a `Records` array parsed whole in one loop (`reads`); it counts,
    keeps and lists for cover exactly what taking it a record at a time (`read`) does."""
    whole = parse(reads(io.BytesIO(data)), name, None, EVERYWHERE)
    one_by_one = parse(read(io.BytesIO(data)), name, None, EVERYWHERE)
    assert (whole.tally, whole.rows, whole.needing_cover) == (
        one_by_one.tally,
        one_by_one.rows,
        one_by_one.needing_cover,
    )


def test_the_records_arrays_compared_hold_kept_records_and_covers() -> None:
    parsed = [parse(reads(io.BytesIO(data)), name, None, EVERYWHERE) for name, data in SHAPES]
    assert sum(len(p.rows) for p in parsed) > 10
    assert sum(len(p.needing_cover) for p in parsed) > 5
    assert sum(len(p.tally.malformed) for p in parsed) > 0


def test_the_kinds_of_calls_are_remembered_across_files() -> None:
    """Every file of a trail repeats the same few shapes of call: read a second time, a file
    adds none to what its first reading taught the process (a memo per file relearned them in
    every file, a third of a year's records)."""
    sample = gzip.decompress(dict(SHAPES)[ORG_SAMPLE])
    once = parse(reads(io.BytesIO(sample)), "first", None, TrailRules())
    learned = len(_kinds())
    again = parse(reads(io.BytesIO(sample)), "second", None, TrailRules())
    assert learned > 0 and sum(once.tally.kinds.values()) > 0
    assert len(_kinds()) == learned
    assert again.tally.kinds == once.tally.kinds
