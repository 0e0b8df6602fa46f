"""CloudTrail log files read as a stream of records, whatever shape they were delivered in.

Shapes (CloudTrail user guide, "CloudTrail log file examples"; EventBridge user guide, "AWS
service events delivered via AWS CloudTrail"): an S3 log file `{"Records": [...]}`, gzipped or
not; NDJSON, one record a line; a file of JSON documents (a record, an EventBridge event whose
`detail` is the record, a digest file). A file of up to `WHOLE` bytes (decompressed; CloudTrail's
five-minute files are far smaller) is parsed in one call to orjson; a larger one a record at a
time with ijson, so it costs the memory of `WHOLE` and one record, not of the file. A file that
stops parsing is reported with where it stopped; the records before that point have been
yielded and are kept.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, TypeGuard

import ijson  # type: ignore[import-untyped]
import orjson

GZIP_MAGIC = b"\x1f\x8b"
PEEK = 64 * 1024
WHOLE = 8 * 1024 * 1024  # bytes of JSON parsed in one call; a larger file is streamed
RECORDS = re.compile(rb'^\s*\{\s*"Records"\s*:')
VIA_CLOUDTRAIL = " via CloudTrail"
CUT = "the gzip file ends before its end-of-stream marker"
# A file that stops reading: not UTF-8, cut short, a damaged or foreign gzip member.
BROKEN = (
    UnicodeDecodeError,
    OSError,
    EOFError,
    zlib.error,
)  # "AWS API Call via CloudTrail", "AWS Console Sign In via ..."


class Item(NamedTuple):
    """One record and where it was (1-based, in the file's own terms: record, line, document).
    A tuple: one is made for every record of an organisation's trail."""

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


class Records(NamedTuple):
    """A `Records` array parsed whole: its documents as parsed, the first at position
    `first`, each to be taken as `item` takes it. Handed over as one list because looking at
    each document is the hottest loop of an ingest (services/trail_parse.py)."""

    first: int
    documents: list[Any]


def read(stream: IO[bytes], whole: int = WHOLE) -> Iterator[Read]:
    """Every record of a log file, in file order (not time order: CloudTrail does not sort);
    one of up to `whole` bytes of JSON parsed in one call, a larger one streamed."""
    for found in reads(stream, whole):
        if isinstance(found, Records):
            yield from (item(n, d) for n, d in enumerate(found.documents, found.first))
        else:
            yield found


def reads(stream: IO[bytes], whole: int = WHOLE) -> Iterator[Read | Records]:
    """As `read`, a `Records` array parsed whole given as one `Records`."""
    head = _head(stream, whole)
    if len(head) <= whole:
        data = _gunzipped(head, whole) if head[:2] == GZIP_MAGIC else head
        if data is not None and (parsed := _whole(data)) is not None:
            yield from parsed
            return
    yield from _streamed(_Counting(stream, head))


def _head(stream: IO[bytes], whole: int) -> bytes:
    """The first `whole` + 1 bytes: the whole file when it is no larger than `whole`. Read a
    `PEEK` at a time: asking for `whole` at once costs a buffer that large for every file."""
    parts, size = [], 0
    while size <= whole and (part := stream.read(min(PEEK, whole + 1 - size))):
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _gunzipped(data: bytes, whole: int) -> bytes | None:
    """A gzip file's content when it is one member of at most `whole` bytes, else None (the
    streaming reader takes it, and names where a damaged one stops)."""
    if int.from_bytes(data[-4:], "little") > whole:  # ISIZE (RFC 1952): the size, mod 2**32
        return None
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, whole + 1)
    except zlib.error:
        return None
    return out if inflate.eof and not inflate.unused_data and len(out) <= whole else None


def _whole(data: bytes) -> Iterator[Read | Records] | None:
    """The file's reads from one parse, or None where it does not parse as a whole."""
    head = data[:PEEK]
    if _first_line_is_a_document(head) and not RECORDS.match(head):
        return _lines(io.BytesIO(data))
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not RECORDS.match(head):
        return iter([item(1, document)])
    records = document.get("Records") if isinstance(document, dict) else None
    return iter([Records(1, records if isinstance(records, list) else [])])


def _streamed(raw: _Counting) -> Iterator[Read]:
    counted, gunzip = raw, None
    buffered = io.BufferedReader(counted, PEEK)
    try:
        if buffered.peek(2)[:2] == GZIP_MAGIC:
            gunzip = _Gunzip(buffered)
            counted = _Counting(gunzip)
            buffered = io.BufferedReader(counted, PEEK)
        head = buffered.peek(PEEK)
    except BROKEN as exc:
        yield Malformed("record 1 (near byte 0)", _why(exc))
        return
    if RECORDS.match(head):
        reads = _records(buffered, counted)
    elif _first_line_is_a_document(head):
        reads = _lines(buffered)
    else:
        reads = _documents(buffered, counted)
    last: Read | None = None
    for last in reads:
        yield last
    # A gzip file cut where its lines or documents happen to end parses cleanly: only the
    # missing end-of-stream marker tells that records may be missing after the last one.
    if gunzip is not None and gunzip.cut and not isinstance(last, Malformed):
        yield Malformed(f"after byte {counted.count:,}", CUT)


def is_record(document: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a parsed JSON document is a CloudTrail record itself (`record_of` gives it
    back as it is)."""
    return (
        isinstance(document, dict)
        and not ("detail-type" in document and "detail" in document)
        and "digestS3Object" not in document
        and "logFiles" not in document
    )


def record_of(document: Any) -> dict[str, Any] | str:
    """The CloudTrail record a JSON document carries, or why it carries none."""
    if is_record(document):
        return document
    if not isinstance(document, dict):
        return "not a JSON object"
    if "detail-type" in document and "detail" in document:
        kind = document.get("detail-type")
        detail = document.get("detail")
        if not isinstance(kind, str) or not kind.endswith(VIA_CLOUDTRAIL):
            return f"an EventBridge event that is not from CloudTrail ({kind!r})"
        return detail if isinstance(detail, dict) else "an EventBridge event without its detail"
    return "a CloudTrail digest file"


def _records(buffered: IO[bytes], counted: _Counting) -> Iterator[Read]:
    n = 0
    try:
        for document in ijson.items(buffered, "Records.item", use_float=True):
            n += 1
            yield item(n, document)
    except (ijson.JSONError, *BROKEN) as exc:
        yield Malformed(f"record {n + 1} (near byte {counted.count:,})", _why(exc))


def _lines(buffered: IO[bytes]) -> Iterator[Read]:
    n = 0
    try:
        for n, line in enumerate(buffered, start=1):  # n: where it stopped
            yield from _line(n, line)
    except BROKEN as exc:
        yield Malformed(f"line {n + 1}", _why(exc))


def _line(n: int, line: bytes) -> Iterator[Read]:
    if not line.strip():
        return
    try:
        document = orjson.loads(line.strip())
    except orjson.JSONDecodeError as exc:
        # One bad line spoils only itself in NDJSON; the lines after it are kept.
        yield Malformed(f"line {n}", _why(exc))
        return
    yield item(n, document)


def _documents(buffered: IO[bytes], counted: _Counting) -> Iterator[Read]:
    n = 0
    try:
        for document in ijson.items(buffered, "", multiple_values=True, use_float=True):
            n += 1
            yield item(n, document)
    except (ijson.JSONError, *BROKEN) as exc:
        yield Malformed(f"document {n + 1} (near byte {counted.count:,})", _why(exc))


def item(n: int, document: Any) -> Item | Skipped:
    """The `n`th document of a file as read: a record, or skipped and why (`record_of`)."""
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


class _Gunzip(io.RawIOBase):
    """gzip members (RFC 1952, one after another, as gzip.GzipFile reads them) inflated as
    they are read, at most `PEEK` bytes at a time. A file cut short gives what it holds
    before the cut, then an end of file (so a buffered read returns that much, where GzipFile
    loses a short file's last block), then EOFError if read again."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self.pending = b""
        self.cut = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            compressed = self.inflate.unconsumed_tail or self._more()
            if compressed is None:
                return 0
            self.pending = self.inflate.decompress(compressed, PEEK)
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def _more(self) -> bytes | None:
        """The next compressed bytes; None at the clean end of the last member."""
        if self.inflate.eof:
            rest = self.inflate.unused_data or self.inner.read(PEEK)
            if not rest:
                return None
            self.inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # the next member
            return rest
        more = self.inner.read(PEEK)
        if not more:
            if self.cut:
                raise EOFError(CUT)
            self.cut = True
            return None
        return more


class _Counting(io.RawIOBase):
    """A raw stream that counts the bytes read through it (where a parse error is near),
    `head` first: what was read from `inner` before."""

    def __init__(self, inner: Any, head: bytes = b"") -> None:
        self.inner = inner
        self.head = memoryview(head)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data: Any = self.head[: len(buffer)]
        self.head = self.head[len(data) :]
        if len(data) < len(buffer):  # a short head is topped up: peek() reads only once
            data = bytes(data) + self.inner.read(len(buffer) - len(data))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def dumps(record: Mapping[str, Any]) -> str:
    """The record as stored: compact JSON, keys in the order received."""
    return orjson.dumps(record).decode()
