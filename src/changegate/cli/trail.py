"""`changegate trail ...`: CloudTrail events in (files, a trail's S3 bucket) and read back (CM-5).

Files are stored a group to a transaction with the bucket cursors' advance past them, so an
ingest killed at any point resumes where it stopped, losing and doubling nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate.cli import runtime, trail_reconcile, trail_sources, trail_workers, transport
from changegate.cli.formats import plural, when
from changegate.cli.options import DEFAULT, As, Instant, Json, Limit, Offset, group, page_query
from changegate.cli.output import emit_json, footer, record, say, table
from changegate.config import parse_instant
from changegate.db.trail import Filters
from changegate.domain.errors import BadInput
from changegate.domain.users import normalise_email
from changegate.services import trail, trail_ingest
from changegate.services.context import Context
from changegate.services.trail_parse import Parsed, Tally
from changegate.services.views import trail as views
from changegate.services.views.common import Page
from changegate.services.views.trail import TrailEventDetailOut, TrailEventOut, TrailIngestOut

app = group("CloudTrail: production changes held to a change, emergency or waiver (CM-5).")
app.command("reconcile")(trail_reconcile.reconcile)  # the trail queried in place (section 4)
_is_log = trail_sources.is_log  # trail_reconcile reads log folders by the same rule
# Files per transaction: an organisation's log files hold a few dozen records each, and a commit
# writes every page the group touched: 1,000 files a transaction stored a year's trail in about
# a tenth less time than 200 (bench/trail_bench.py).
FILES_PER_TRANSACTION = 1000


@app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="FILE|DIR...", help="Log files (.json, .json.gz, NDJSON)."),
    ] = None,
    bucket: Annotated[
        str | None, typer.Option(metavar="BUCKET", help="The trail's S3 bucket (incremental).")
    ] = None,
    prefix: Annotated[str, typer.Option(metavar="PREFIX", help="The trail's key prefix.")] = "",
    batch: Annotated[
        int, typer.Option(min=1, max=1000, metavar="N", help="Files per transaction.")
    ] = FILES_PER_TRANSACTION,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=32,
            metavar="N",
            help="Processes reading files (default: one per CPU, at most 4; 0: none).",
        ),
    ] = None,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Ingest CloudTrail records; exit 1 when a file was malformed (the rest is kept)."""
    if paths and bucket:
        raise BadInput("give the files or directories to ingest, or --bucket, not both")
    if not paths and not bucket:
        raise BadInput("give the files or directories to ingest, or --bucket")
    if bucket:
        transport.local_only("trail ingest --bucket")
    out = (
        _local(paths or [], bucket, prefix, as_, batch, _workers(workers))
        if transport.remote_settings() is None
        else (trail_sources.remote_ingest(paths or []))
    )
    if json_out:
        emit_json(out)
    else:
        _say_tally(out)
    if out.malformed:
        bad = plural(len(out.malformed), "malformed file or record", "malformed files or records")
        sys.stderr.write(f"error: {bad}; the rest was kept\n")
        raise typer.Exit(1)


def _local(
    paths: list[Path], bucket: str | None, prefix: str, as_: str | None, batch: int, workers: int
) -> TrailIngestOut:
    if not as_:
        raise BadInput("give --as EMAIL (who is ingesting: a pipeline or admin principal)")
    actor = normalise_email(as_)
    total = Tally()
    with runtime.app() as cg:
        rules = cg.run(trail_ingest.authorised, actor=actor)  # refused before anything is read
        sources = (
            trail_sources.bucket_files(cg.run, bucket, prefix, actor)
            if bucket
            else trail_sources.files(paths)  # every path checked before any is read
        )
        with trail_workers.collecting_less():
            read = trail_workers.parsed(sources, rules, workers)
            for group in trail_workers.groups(read, batch):
                total.add(cg.run(_storing(group), actor=actor))
        cg.run(lambda ctx: trail_ingest.settle(ctx, total.new), actor=actor)
        return views.tally(total, cg.read(trail.notice))


def _storing(group: list[Parsed]) -> Callable[[Context], Tally]:
    """A group in one transaction: a process killed mid-group leaves the whole group to be
    read again, and nothing of it stored."""
    return lambda ctx: trail_ingest.store(ctx, group)


def _workers(given: int | None) -> int:
    return trail_workers.default_workers() if given is None else given


def _say_tally(out: TrailIngestOut) -> None:
    counted = out.changes + out.attempts + out.reads + out.data + out.services
    say(
        f"ingested {plural(out.files, 'file')}: {plural(counted, 'event')}: "
        f"{plural(out.changes, 'change')}, {plural(out.attempts, 'attempt')}, "
        f"{plural(out.reads, 'read')}, {plural(out.data, 'data event')}, "
        f"{plural(out.services, 'service event')}; "
        f"{out.new + out.seen} kept ({out.new} new, {out.seen} already seen); "
        f"{out.skipped} skipped (not API calls), {out.malformed.__len__()} malformed"
    )
    for problem in out.malformed:
        sys.stderr.write(f"malformed: {problem}\n")
    if out.uncovered:
        say(
            f"{plural(len(out.uncovered), 'production change')} covered by no deployment, "
            f"emergency change or waiver: {', '.join(out.uncovered)} "
            "(`changegate trail show EVENT_ID`; `changegate audit run` records the findings)"
        )
    if out.notice:
        say(f"note: {out.notice}")


READER = "CloudTrail events name people; give --as EMAIL of someone who may read findings"
Since = Annotated[str | None, typer.Option(metavar="ISO-8601 time", help="From this time.")]


@app.command("list")
def list_events(
    uncovered: Annotated[
        bool, typer.Option("--uncovered", help="Only production changes nothing covers.")
    ] = False,
    principal: Annotated[
        str | None, typer.Option(metavar="ARN|NAME", help="The principal ARN or actor name.")
    ] = None,
    change: Annotated[
        str | None, typer.Option(metavar="CHANGE", help="Events a pipeline session named.")
    ] = None,
    since: Instant = None,
    until: Instant = None,
    limit: Limit = DEFAULT,
    offset: Offset = 0,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """CloudTrail events in time order."""
    start = parse_instant(since, "--since") if since else None
    end = parse_instant(until, "--until") if until else None
    if start and end and start >= end:
        raise BadInput("--since must be before --until")
    key = change.strip().upper() if change else None
    filters = Filters(principal=principal or None, change=key, since=start, until=end)
    query = page_query(
        limit,
        offset,
        uncovered=uncovered or None,
        principal=principal,
        change=key,
        since=since,
        until=until,
    )
    page = transport.read(
        "trail list",
        as_,
        Page[TrailEventOut],
        lambda ctx: trail.page(ctx, filters, uncovered, limit, offset),
        lambda r: r.call("GET", "/api/v1/trail/events", params=query),
        reader=READER,
    )
    if json_out:
        emit_json(page)
        return
    table(
        f"CloudTrail events ({page.total})",
        ["time", "event id", "call", "kind", "environment", "actor", "change"],
        [
            [
                when(e.event_time),
                e.event_id,
                f"{e.event_name} ({e.event_source})",
                e.kind + (f" {e.error_code}" if e.error_code else ""),
                e.environment or "-",
                f"{e.actor_kind} {e.actor}",
                e.change or "-",
            ]
            for e in page.items
        ],
        empty="" if page.items else _nothing(uncovered, filters),
    )
    footer(len(page.items), page.total, offset)


def _nothing(uncovered: bool, filters: Filters) -> str:
    """What an empty list means: nothing stored, nothing these filters select, no production
    change without a cover, or (here, not through a server) no production at all to judge."""
    if uncovered and transport.remote_settings() is None:
        with runtime.app() as cg:
            unmapped = cg.read(trail.notice)
        if unmapped:
            return f"nothing judged (CM-5 not checked): {unmapped}"
    if uncovered:
        return (
            "no production change without a cover (production: an account the policy maps to a "
            "production environment, cloudtrail.accounts or environments[].aws_accounts)"
        )
    if filters != Filters():
        return "no CloudTrail event matches these filters"
    return "no CloudTrail events: `changegate trail ingest`"


@app.command("show")
def show(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The record's eventID.")],
    as_: As = None,
    json_out: Json = False,
) -> None:
    """One event: the record as stored, its classification, and what covers it."""
    out = transport.read(
        "trail show",
        as_,
        TrailEventDetailOut,
        lambda ctx: trail.show(ctx, event_id),
        lambda r: r.call("GET", f"/api/v1/trail/events/{event_id.strip()}"),
        reader=READER,
    )
    if json_out:
        emit_json(out)
        return
    cover = out.cover
    record(
        f"CloudTrail event {out.event_id}",
        [
            ("time", when(out.event_time)),
            ("call", f"{out.event_name} ({out.event_source})"),
            ("kind", out.kind + (f" ({out.error_code})" if out.error_code else "")),
            ("account", out.account),
            ("region", out.region),
            ("environment", out.environment),
            ("actor", f"{out.actor_kind} {out.actor}"),
            ("principal", out.principal),
            ("change named", out.change),
            ("resources", ", ".join(out.resources)),
            (
                "covered by",
                f"{cover.by} {cover.evidence}"
                if cover
                else ("NOTHING" if out.needs_cover else "needs no cover"),
            ),
            ("finding", out.finding),
            ("source", f"{out.source} #{out.position}"),
        ],
    )
    say(_json(out.record))


def _json(value: dict[str, Any]) -> str:
    import json  # noqa: PLC0415

    return json.dumps(value, indent=2, ensure_ascii=False)
