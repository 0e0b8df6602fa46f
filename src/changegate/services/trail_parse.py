"""A CloudTrail log file read, counted and classified, outside any transaction (CM-5).

What `trail ingest` does to a file before anything is stored: every record counted by kind,
the kept ones (domain/trail/classify.kept: changes, attempts, sign-ins) turned into the columns
they are stored with, and the production changes that need a cover listed. Nothing here touches
the database or the ledger, so it runs in worker processes (cli/trail_workers.py) as well as in
the ingesting one; services/trail_ingest.py stores what it returns.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import IO, Any

from changegate.domain.errors import BadInput
from changegate.domain.limits import ARN, TRAIL_EVENT, TRAIL_SOURCE, check_text
from changegate.domain.trail.actors import Actor, ActorKind, TrailRules
from changegate.domain.trail.classify import (
    Catalogue,
    Classified,
    Kind,
    KindMemo,
    classify,
    needs_cover,
)
from changegate.domain.trail.records import event_key, problem, text
from changegate.integrations import cloudtrail
from changegate.integrations.cloudtrail import Item, Malformed, Read, Records, dumps, is_record
from changegate.integrations.cloudtrail_catalogue import catalogue

Opener = Callable[[], AbstractContextManager[IO[bytes]]]
PART = 10_000  # kept records held at once: a larger file is stored a part at a time
# The stored columns' widths, as the table declares them (domain/limits): a worker process
# checks its rows without importing the database code, most of its start-up.
_WIDTHS = tuple(TRAIL_EVENT.items())


@dataclass
class Tally:
    """What one or more files held. `kinds` counts every record read, new, already seen or
    not kept; `new` and `seen` count the kept ones (stored now, or already)."""

    files: int = 0
    new: int = 0
    seen: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    skipped: int = 0  # not API calls: Insights events, digest files, other EventBridge events
    malformed: list[str] = field(default_factory=list)  # "<source>: <where>: <why>"
    uncovered: list[str] = field(default_factory=list)  # production changes nothing covers

    def add(self, other: Tally) -> None:
        self.files += other.files
        self.new += other.new
        self.seen += other.seen
        self.kinds.update(other.kinds)
        self.skipped += other.skipped
        self.malformed.extend(other.malformed)
        self.uncovered.extend(other.uncovered)


@dataclass(frozen=True)
class CursorAt:
    """The trail cursor a file advances: its bucket, prefix, account and region (from the
    key, which is what listing resumes by, even where the records name another account)."""

    bucket: str
    prefix: str
    account: str
    region: str
    key: str


# A log file: its name, how to open it, and the trail cursor it advances (None: a local file).
# To be parsed by a worker process, the opener must pickle (a module-level callable).
Source = tuple[str, Opener, CursorAt | None]


@dataclass
class Parsed:
    """One file or delivery, read: its counts, its kept records' columns (all but
    `ingested_at`, which the storing transaction sets), and which of those rows are
    production changes that need a cover (indexes: what goes back from a worker process is
    pickled, and rows say all the cover needs, `classified`)."""

    source: str
    cursor: CursorAt | None
    tally: Tally = field(default_factory=lambda: Tally(files=1))
    rows: list[dict[str, Any]] = field(default_factory=list)
    needing_cover: list[int] = field(default_factory=list)


def parse_files(sources: list[Source], rules: TrailRules) -> list[Parsed | Source]:
    """Each of `sources` opened and parsed, in order: one worker process's task. A file with
    more than `PART` kept records comes back as its source, to be read where it is stored
    (`parse_file`, a part at a time), not held whole here and sent back."""
    out: list[Parsed | Source] = []
    for source in sources:
        parts = parse_file(source, rules)
        first = next(parts)  # the whole file, unless it filled a part
        out.append(source if len(first.rows) >= PART else first)
        parts.close()
    return out


def parse_file(source: Source, rules: TrailRules) -> Generator[Parsed, None, None]:
    """One log file, a part of at most `PART` kept records at a time (memory stays bounded
    however large the file): the first part counts as the file, the last carries its cursor,
    and each part after the first is labelled `NAME (part N)`, the source its rows and its
    ledger entry name."""
    name, opener, at = source
    with opener() as stream:
        yield from parse_parts(cloudtrail.reads(stream), name, at, rules)


def parse_parts(
    reads: Iterable[Read | Records],
    source: str,
    cursor: CursorAt | None,
    rules: TrailRules,
    part: int | None = None,
) -> Iterator[Parsed]:
    """As `parse`, a part of at most `part` (default `PART`) kept records at a time (see
    `parse_file`)."""
    size = PART if part is None else part
    found, number = Parsed(source[-TRAIL_SOURCE:], None), 1
    take = _Taker(_kinds(), rules)
    for read in reads:
        if isinstance(read, Records):
            for position, document in enumerate(read.documents, read.first):
                if is_record(document):
                    take(found, position, document)
                else:
                    take.read(found, cloudtrail.item(position, document))
                if len(found.rows) >= size:
                    yield found
                    found, number = _next_part(source, number)
        else:
            take.read(found, read)
            if len(found.rows) >= size:
                yield found
                found, number = _next_part(source, number)
    found.cursor = cursor
    yield found


def parse(
    reads: Iterable[Read | Records], source: str, cursor: CursorAt | None, rules: TrailRules
) -> Parsed:
    """The records of one file or delivery, whole; malformed ones are listed and skipped."""
    return next(parse_parts(reads, source, cursor, rules, part=sys.maxsize))


@cache
def _kinds() -> KindMemo:
    """One memo a process, not a file: a file holds a few dozen records, and in a memo of its
    own nearly each of its shapes was a miss (a third of a year's records, bench/trail_bench.py).
    The catalogue is the packaged one, the same while the process runs."""
    return KindMemo(catalogue())


def _next_part(source: str, number: int) -> tuple[Parsed, int]:
    label = f"{source} (part {number + 1})"[-TRAIL_SOURCE:]
    return Parsed(label, None, Tally(files=0)), number + 1


# Kind.value is a call through the enum's descriptor, once a record; a dict lookup is not.
_VALUE = {kind: kind.value for kind in Kind}


@dataclass(frozen=True)
class _Taker:
    """What a read record does to its file's `Parsed`: counted, and if kept, its columns."""

    kind_of: KindMemo
    rules: TrailRules

    def read(self, found: Parsed, read: Read) -> None:
        if isinstance(read, Item):
            self(found, read.position, read.record)
        elif isinstance(read, Malformed):
            found.tally.malformed.append(f"{found.source}: {read.where}: {read.detail}")
        else:
            found.tally.skipped += 1

    def __call__(self, found: Parsed, position: int, record: dict[str, Any]) -> None:
        tally = found.tally
        kind, keep = self.kind_of.sort(record)
        if kind is Kind.NON_API:
            tally.skipped += 1
            return
        if not keep:
            tally.kinds[_VALUE[kind]] += 1
            return
        known = self.kind_of.catalogue
        columns = _columns(record, kind, found.source, position, known, self.rules)
        if isinstance(columns, str):
            tally.malformed.append(f"{found.source}: record {position}: {columns}")
            return
        tally.kinds[_VALUE[kind]] += 1
        if needs_cover(columns[1]):
            found.needing_cover.append(len(found.rows))
        found.rows.append(columns[0])


def _columns(
    record: Any, kind: Kind, source: str, position: int, known: Catalogue, rules: TrailRules
) -> tuple[dict[str, Any], Classified] | str:
    """The record's stored columns and classification, or why it cannot be stored: checked
    here, not as its group is stored, so one bad record spoils only itself."""
    why = problem(record)
    if why is not None:
        return why
    classified = classify(record, known, rules, kind)
    columns = row(record, classified, source, position)
    try:
        check_text(_WIDTHS, columns)
    except BadInput as exc:
        return str(exc)
    return columns, classified


def row(record: Any, found: Classified, source: str, position: int) -> dict[str, Any]:
    """The stored columns of a record that passed `problem` (so its keys are there), but
    `ingested_at`."""
    account = found.account if found.account and len(found.account) == 12 else None
    region = found.region if found.region and len(found.region) <= 32 else None
    error = text(record, "errorCode")
    return {
        "event_id": event_key(record),
        "event_time": found.at,
        "event_source": record["eventSource"],
        "event_name": record["eventName"],
        "account": account,
        "region": region,
        "environment": found.environment,
        "kind": found.kind.value,
        "actor_kind": found.actor.kind.value,
        # Cut on purpose: a principal past an ARN's 2,048 characters is not one AWS issues.
        "principal": found.actor.principal[:ARN],
        "actor_name": found.actor.name[:ARN],
        "change_key": found.actor.change[: TRAIL_EVENT["change_key"]]
        if found.actor.change
        else None,
        "error_code": error[: TRAIL_EVENT["error_code"]] if error else None,
        "source": source,
        "position": position,
        "raw": dumps(record),
    }


def classified(columns: dict[str, Any], rules: TrailRules) -> Classified:
    """What coverage reads of a kept record (domain/trail/coverage.covered: the actor's kind,
    principal, name and change, the time, the environment), from its `row` columns."""
    actor = Actor(
        ActorKind(columns["actor_kind"]),
        "",
        columns["principal"],
        columns["actor_name"],
        change=columns["change_key"],
    )
    environment = columns["environment"]
    return Classified(
        Kind(columns["kind"]),
        environment,
        environment in rules.production,
        actor,
        columns["event_time"],
        columns["account"],
        columns["region"],
    )
