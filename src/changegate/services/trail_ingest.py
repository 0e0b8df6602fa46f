"""CloudTrail records in: classified, stored once by eventID, a file at a time (CM-5).

Each call stores one file (or one API delivery) in the caller's transaction, together with the
trail cursor's advance past it and its ledger record: a process killed mid-file loses that
file's transaction and nothing else, and the next run reads the file again, where the eventID
key skips what an earlier delivery brought.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

from changegate.db.trail import TrailCursors, TrailEvents
from changegate.domain.trail.actors import TrailRules
from changegate.domain.trail.classify import Catalogue, Classified, Kind, classify, needs_cover
from changegate.domain.trail.records import event_key, events_digest, problem, text
from changegate.domain.users import Role
from changegate.integrations import cloudtrail
from changegate.integrations.cloudtrail import Item, Malformed, Read, Skipped, dumps
from changegate.integrations.cloudtrail_catalogue import catalogue
from changegate.services import trail_coverage
from changegate.services.context import Context

BATCH = 500  # rows per INSERT: memory stays flat however large a file is
Opener = Callable[[], AbstractContextManager[IO[bytes]]]
INGESTED = "trail.ingested"


@dataclass
class Tally:
    """What one or more files held. `kinds` counts every record read, new or already seen."""

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
Source = tuple[str, Opener, CursorAt | None]


def ingest(ctx: Context, reads: Iterable[Read], source: str, cursor: CursorAt | None) -> Tally:
    """Store the records of one file or delivery; malformed ones are listed and skipped."""
    ctx.user_with(Role.PIPELINE, Role.ADMIN)
    rules = ctx.policy.trail_rules()
    run = _stored(ctx, rules, reads, source, cursor)
    ctx.record(INGESTED, f"source:{source[-100:]}", run.entry)
    run.tally.uncovered = _uncovered(ctx, rules, run.needing_cover)
    return run.tally


def ingest_files(ctx: Context, files: Iterable[Source]) -> Tally:
    """Several log files in the caller's transaction (a commit per small file cost more than
    reading it), each with its own cursor advance and ledger record, and their production
    changes judged together; each file opened here, so a retried transaction reads them from
    their start."""
    ctx.user_with(Role.PIPELINE, Role.ADMIN)
    rules = ctx.policy.trail_rules()
    tally, pending, entries = Tally(), list[tuple[str, Classified]](), list[dict[str, Any]]()
    for name, opener, at in files:
        with opener() as stream:
            run = _stored(ctx, rules, cloudtrail.read(stream), name, at)
        tally.add(run.tally)
        pending += run.needing_cover
        entries.append(run.entry)
    if entries:  # one ledger record for the group: appending one per small file cost a quarter
        first = entries[0]["source"]
        ctx.record(INGESTED, f"source:{first[-100:]}", {"new": tally.new, "files": entries})
    tally.uncovered = _uncovered(ctx, rules, pending)
    return tally


def _stored(
    ctx: Context, rules: TrailRules, reads: Iterable[Read], source: str, cursor: CursorAt | None
) -> _Run:
    run = _Run(ctx, catalogue(), rules, source[-1024:])
    for read in reads:
        run.take(read)
    run.flush()
    TrailEvents(ctx.session).analyse("trail_events", run.tally.new)
    if cursor is not None:
        TrailCursors(ctx.session).advance(
            cursor.bucket, cursor.prefix, cursor.account, cursor.region, cursor.key, ctx.now
        )
    tally = run.tally
    run.entry = {
        "new": tally.new,
        "seen": tally.seen,
        "kinds": dict(sorted(tally.kinds.items())),
        "skipped": tally.skipped,
        "malformed": len(tally.malformed),
        **({"cursor": cursor.key} if cursor else {}),
        # What `ledger verify --state` checks the stored events against (ledger_state_trail).
        "source": run.source,
        "events_sha256": events_digest(run.stored),
    }
    return run


def _uncovered(
    ctx: Context, rules: TrailRules, needing_cover: list[tuple[str, Classified]]
) -> list[str]:
    """The eventIDs of the production changes nothing covers."""
    events = [found for _, found in needing_cover]
    judged = trail_coverage.covers(ctx, events, rules, ctx.now)
    return [eid for (eid, _), cover in zip(needing_cover, judged, strict=True) if not cover]


def cursor(ctx: Context, bucket: str, base: str, account: str, region: str) -> str | None:
    """The last key ingested from one account and region's folder of a trail bucket."""
    ctx.user_with(Role.PIPELINE, Role.ADMIN)
    return TrailCursors(ctx.session).last_key(bucket, base, account, region)


@dataclass
class _Run:
    ctx: Context
    catalogue: Catalogue
    rules: TrailRules
    source: str
    tally: Tally = field(default_factory=lambda: Tally(files=1))
    rows: list[dict[str, Any]] = field(default_factory=list)
    needing_cover: list[tuple[str, Classified]] = field(default_factory=list)
    stored: list[tuple[str, str]] = field(default_factory=list)  # (eventID, raw) stored new
    entry: dict[str, Any] = field(default_factory=dict)  # the file's part of its ledger record

    def take(self, read: Read) -> None:
        if isinstance(read, Malformed):
            self.tally.malformed.append(f"{self.source}: {read.where}: {read.detail}")
        elif isinstance(read, Skipped):
            self.tally.skipped += 1
        else:
            self._record(read)

    def _record(self, item: Item) -> None:
        record = item.record
        found = classify(record, self.catalogue, self.rules)
        if found.kind is Kind.NON_API:
            self.tally.skipped += 1
            return
        why = problem(record)
        if why is not None:
            self.tally.malformed.append(f"{self.source}: record {item.position}: {why}")
            return
        self.tally.kinds[found.kind.value] += 1
        self.rows.append(row(record, found, self.source, item.position, self.ctx))
        if needs_cover(found):
            self.needing_cover.append((event_key(record), found))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        added = TrailEvents(self.ctx.session).add(self.rows)
        self.tally.new += len(added)
        self.tally.seen += len(self.rows) - len(added)
        for r in self.rows:  # a record repeated within the batch was stored once
            if r["event_id"] in added:
                added.discard(r["event_id"])
                self.stored.append((r["event_id"], r["raw"]))
        self.rows = []


def row(record: Any, found: Classified, source: str, position: int, ctx: Context) -> dict[str, Any]:
    """The stored columns of a record that passed `problem` (so its keys are there)."""
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
        "principal": found.actor.principal[:2048],
        "actor_name": found.actor.name[:2048],
        "change_key": found.actor.change[:40] if found.actor.change else None,
        "error_code": error[:256] if error else None,
        "source": source,
        "position": position,
        "raw": dumps(record),
        "ingested_at": ctx.now,
    }
