"""CloudTrail log files read as a stream of records, whatever shape they were delivered in.

Shapes (CloudTrail user guide, "CloudTrail log file examples"; EventBridge user guide, "AWS
service events delivered via AWS CloudTrail"): an S3 log file `{"Records": [...]}`, gzipped or
not; NDJSON, one record a line; a file of JSON documents (a record, an EventBridge event whose
`detail` is the record, a digest file). Records are parsed one at a time with ijson, so a large
file costs the memory of one record, not of the file. A file that stops parsing is reported with
where it stopped; the records before that point have been yielded and are kept.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import orjson

GZIP_MAGIC = b"\x1f\x8b"
PEEK = 64 * 1024
RECORDS = re.compile(rb'^\s*\{\s*"Records"\s*:')
VIA_CLOUDTRAIL = " via CloudTrail"  # "AWS API Call via CloudTrail", "AWS Console Sign In via ..."


@dataclass(frozen=True)
class Item:
    """One record and where it was (1-based, in the file's own terms: record, line, document)."""

    position: int
    record: dict[str, Any]


@dataclass(frozen=True)
class Skipped:
    position: int
    reason: str  # "digest file", "not a CloudTrail record"


@dataclass(frozen=True)
class Malformed:
    """The file stops parsing here; nothing after it is read."""

    where: str  # "line 7", "record 12 (near byte 65,536)"
    detail: str


Read = Item | Skipped | Malformed


def read(stream: IO[bytes]) -> Iterator[Read]:
    """Every record of a log file, in file order (not time order: CloudTrail does not sort)."""
    counted = _Counting(stream)
    buffered = io.BufferedReader(counted, PEEK)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        counted = _Counting(gzip.GzipFile(fileobj=buffered))
        buffered = io.BufferedReader(counted, PEEK)
    head = buffered.peek(PEEK)
    if RECORDS.match(head):
        yield from _records(buffered, counted)
    elif _first_line_is_a_document(head):
        yield from _lines(buffered)
    else:
        yield from _documents(buffered, counted)


def record_of(document: Any) -> dict[str, Any] | str:
    """The CloudTrail record a JSON document carries, or why it carries none."""
    if not isinstance(document, dict):
        return "not a JSON object"
    if "detail-type" in document and "detail" in document:
        kind = document.get("detail-type")
        detail = document.get("detail")
        if not isinstance(kind, str) or not kind.endswith(VIA_CLOUDTRAIL):
            return f"an EventBridge event that is not from CloudTrail ({kind!r})"
        return detail if isinstance(detail, dict) else "an EventBridge event without its detail"
    if "digestS3Object" in document or "logFiles" in document:
        return "a CloudTrail digest file"
    return document


def _records(buffered: IO[bytes], counted: _Counting) -> Iterator[Read]:
    n = 0
    try:
        for document in ijson.items(buffered, "Records.item", use_float=True):
            n += 1
            yield _item(n, document)
    except (ijson.JSONError, UnicodeDecodeError, OSError, EOFError) as exc:
        yield Malformed(f"record {n + 1} (near byte {counted.count:,})", _why(exc))


def _lines(buffered: IO[bytes]) -> Iterator[Read]:
    for n, line in enumerate(buffered, start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line.strip())
        except orjson.JSONDecodeError as exc:
            # One bad line spoils only itself in NDJSON; the lines after it are kept.
            yield Malformed(f"line {n}", _why(exc))
            continue
        yield _item(n, document)


def _documents(buffered: IO[bytes], counted: _Counting) -> Iterator[Read]:
    n = 0
    try:
        for document in ijson.items(buffered, "", multiple_values=True, use_float=True):
            n += 1
            yield _item(n, document)
    except (ijson.JSONError, UnicodeDecodeError, OSError, EOFError) as exc:
        yield Malformed(f"document {n + 1} (near byte {counted.count:,})", _why(exc))


def _item(n: int, document: Any) -> Item | Skipped:
    found = record_of(document)
    return Skipped(n, found) if isinstance(found, str) else Item(n, found)


def _first_line_is_a_document(head: bytes) -> bool:
    line, newline, _ = head.lstrip().partition(b"\n")
    if not newline:
        return False
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class _Counting(io.RawIOBase):
    """A raw stream that counts the bytes read through it (where a parse error is near)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def dumps(record: Mapping[str, Any]) -> str:
    """The record as stored: compact JSON, keys in the order received."""
    return orjson.dumps(record).decode()
