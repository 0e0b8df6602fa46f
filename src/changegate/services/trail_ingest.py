"""CloudTrail records stored: the kept ones once by eventID, every file's counts in the ledger,
the production changes judged (CM-5).

Files are read and classified first (services/trail_parse.py, in this process or in worker
processes); a group of them is then stored in the caller's transaction together with the trail
cursors' advance past them and one `trail.ingested` ledger record listing them. A process
killed mid-group loses that group's transaction and nothing else, and the next run reads its
files again, where the eventID key skips what an earlier delivery brought.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from changegate.db.trail import TrailCursors, TrailEvents
from changegate.domain.trail.actors import TrailRules
from changegate.domain.trail.records import events_digest
from changegate.domain.users import Role
from changegate.integrations.cloudtrail import Read
from changegate.services import trail_coverage
from changegate.services.context import Context
from changegate.services.trail_parse import (
    CursorAt,
    Parsed,
    Source,
    Tally,
    classified,
    parse,
    parse_file,
)

INGESTED = "trail.ingested"


def authorised(ctx: Context) -> TrailRules:
    """Refuses anyone but a pipeline or admin principal; the policy's trail rules otherwise
    (what a file is classified under before its group is stored)."""
    ctx.user_with(Role.PIPELINE, Role.ADMIN)
    return ctx.policy.trail_rules()


def ingest(ctx: Context, reads: Iterable[Read], source: str, cursor: CursorAt | None) -> Tally:
    """Store the records of one file or delivery; malformed ones are listed and skipped."""
    found = parse(reads, source, cursor, authorised(ctx))
    [tally], [entry] = _stored(ctx, [found])
    _analyse(ctx, tally.new)
    ctx.record(INGESTED, f"source:{source[-100:]}", entry)
    tally.uncovered = _uncovered(ctx, [found])
    return tally


def ingest_files(ctx: Context, files: Iterable[Source]) -> Tally:
    """Several log files, read here, in the caller's transaction (`store`); each file
    opened here, so a retried transaction reads them from their start."""
    rules = authorised(ctx)
    tally = store(ctx, [part for source in files for part in parse_file(source, rules)])
    _analyse(ctx, tally.new)
    return tally


def store(ctx: Context, group: list[Parsed]) -> Tally:
    """Files already read (`trail_parse`) stored in the caller's transaction (a commit per
    small file cost more than reading it): their kept records inserted together, the cursors
    advanced, one ledger record listing each file's counts and digest, and their production
    changes judged together. The caller `settle`s after its last group."""
    authorised(ctx)
    tallies, entries = _stored(ctx, group)
    tally = Tally()
    for one in tallies:
        tally.add(one)
    if entries:  # one ledger record for the group: appending one per small file cost a quarter
        first = entries[0]["source"]
        ctx.record(INGESTED, f"source:{first[-100:]}", _group_entry(tally, entries))
    tally.uncovered = _uncovered(ctx, group)
    return tally


def settle(ctx: Context, stored: int) -> None:
    """After `stored` events were stored (one delivery, or a run of `store` calls): the
    planner's statistics of the events refreshed when that is many (db/base.analyse). Once a
    run, not a group: ANALYZE samples the whole table, and after each group of a year's trail
    it cost PostgreSQL more than storing the group (bench/trail_bench.py). Storing itself
    plans nothing on these statistics (the eventID key decides)."""
    authorised(ctx)
    _analyse(ctx, stored)


def _analyse(ctx: Context, stored: int) -> None:
    TrailEvents(ctx.session).analyse("trail_events", stored)


def cursor(ctx: Context, bucket: str, base: str, account: str, region: str) -> str | None:
    """The last key ingested from one account and region's folder of a trail bucket."""
    ctx.user_with(Role.PIPELINE, Role.ADMIN)
    return TrailCursors(ctx.session).last_key(bucket, base, account, region)


def _stored(ctx: Context, group: list[Parsed]) -> tuple[list[Tally], list[dict[str, Any]]]:
    """Each file's tally (its new and seen counted) and ledger entry, once its rows are in."""
    stored = _insert(ctx, group)
    _advance(ctx, group)
    tallies, entries = [], []
    for index, found in enumerate(group):
        tally, mine = found.tally, stored.get(index, [])
        tally.new = len(mine)
        tally.seen = len(found.rows) - tally.new
        tallies.append(tally)
        entries.append(_entry(found, mine) if len(group) == 1 else _proof(found, mine))
    return tallies, entries


def _insert(ctx: Context, group: list[Parsed]) -> dict[int, list[tuple[str, str]]]:
    """The group's kept rows stored in one call whichever file they came from (a statement per
    small file cost more than its parse; db/bulk decides how many rows a statement takes);
    what each file (by its index) stored new, as (eventID, raw) in its order."""
    rows = [r for found in group for r in found.rows]
    for r in rows:  # the instant they are stored
        r["ingested_at"] = ctx.now
    added = TrailEvents(ctx.session).add(rows)
    stored: dict[int, list[tuple[str, str]]] = {}
    for index, found in enumerate(group):
        for r in found.rows:
            if r["event_id"] in added:  # a record repeated in the group is stored once
                added.discard(r["event_id"])
                stored.setdefault(index, []).append((r["event_id"], r["raw"]))
    return stored


def _entry(found: Parsed, stored: list[tuple[str, str]]) -> dict[str, Any]:
    """The file's part of its ledger record: its counts, and what `ledger verify --state`
    checks its stored events against (ledger_state_trail)."""
    return {**_counts(found.tally), **_proof(found, stored)}


def _proof(found: Parsed, stored: list[tuple[str, str]]) -> dict[str, Any]:
    """The source, its cursor, and the digest of the events it stored (none: nothing to
    check)."""
    return {
        "new": len(stored),
        **({"cursor": found.cursor.key} if found.cursor else {}),
        "source": found.source,
        **({"events_sha256": events_digest(stored)} if stored else {}),
    }


def _group_entry(tally: Tally, files: list[dict[str, Any]]) -> dict[str, Any]:
    """A group's ledger record: its counts once, and each file's proof. Every value here is
    canonicalised (RFC 8785) as the ledger appends it: per-file counts cost a third of the
    group's store (bench/trail_bench.py), and re-reading a listed file gives them again."""
    return {"new": tally.new, **_counts(tally), "files": files}


def _counts(tally: Tally) -> dict[str, Any]:
    return {
        "seen": tally.seen,
        "kinds": dict(sorted(tally.kinds.items())),
        "skipped": tally.skipped,
        "malformed": len(tally.malformed),
    }


def _advance(ctx: Context, group: list[Parsed]) -> None:
    """Each folder's cursor past the group's last file in it (keys only grow)."""
    last: dict[tuple[str, str, str, str], str] = {}
    for found in group:
        if (at := found.cursor) is not None:
            folder = (at.bucket, at.prefix, at.account, at.region)
            last[folder] = max(last.get(folder, ""), at.key)
    cursors = TrailCursors(ctx.session)
    for (bucket, prefix, account, region), key in sorted(last.items()):
        cursors.advance(bucket, prefix, account, region, key, ctx.now)


def _uncovered(ctx: Context, group: list[Parsed]) -> list[str]:
    """The eventIDs of the production changes nothing covers."""
    rules = ctx.policy.trail_rules()
    pending = [found.rows[i] for found in group for i in found.needing_cover]
    judged = trail_coverage.covers(ctx, [classified(r, rules) for r in pending], rules, ctx.now)
    return [r["event_id"] for r, cover in zip(pending, judged, strict=True) if not cover]
