"""`changegate trail reconcile`: CM-5 over a trail queried where it lives (Athena, or DuckDB here).

The classification runs as SQL (integrations/trail_sql.py) on the query engine, over every
record of the trail; only production change events and attempts come back, and each is
rebuilt as a record and stored and reconciled by `trail ingest`'s own code path
(services/trail_ingest.py), so the findings are those `trail ingest` would give for the same
records. A batch of rows is one transaction: a run that dies keeps the batches it finished, and
the next run skips them by eventID.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from changegate.cli import runtime, transport
from changegate.cli.options import As, Instant, Json
from changegate.cli.output import emit_json, say
from changegate.config import parse_instant
from changegate.domain.errors import BadInput
from changegate.domain.users import normalise_email

# Rows per transaction. Coverage loads the deployments of a batch's span and judges each event
# against them (services/trail_coverage.py), which grows with the product of the two: a batch of
# 5,000 spent 75% of a run there (bench/trail_bench.py); 500 keeps it small.
BATCH = 500


class Engine(StrEnum):
    ATHENA = "athena"
    DUCKDB = "duckdb"


def reconcile(
    engine: Annotated[
        Engine, typer.Option(help="Where the query runs: Amazon Athena, or DuckDB on --files.")
    ] = Engine.ATHENA,
    database: Annotated[
        str | None, typer.Option(metavar="DATABASE", help="Athena: the table's Glue database.")
    ] = None,
    table: Annotated[
        str | None, typer.Option(metavar="TABLE", help="Athena: the CloudTrail table.")
    ] = None,
    output: Annotated[
        str | None, typer.Option(metavar="S3_URL", help="Athena: where it writes results.")
    ] = None,
    workgroup: Annotated[str | None, typer.Option(metavar="NAME", help="Athena workgroup.")] = None,
    date_partition: Annotated[
        str | None,
        typer.Option(metavar="COLUMN", help="A yyyy/MM/dd partition to prune by (`timestamp`)."),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--files", metavar="PATH", help="DuckDB: log files or folders (repeat)."),
    ] = None,
    since: Instant = None,
    until: Instant = None,
    print_sql: Annotated[
        bool, typer.Option("--print-sql", help="Print the query for the engine and stop.")
    ] = False,
    as_: As = None,
    json_out: Json = False,
) -> None:
    """Reconcile the production changes of a trail queried in place (Athena or DuckDB)."""
    from changegate.integrations.cloudtrail_catalogue import catalogue  # noqa: PLC0415
    from changegate.integrations.trail_sql import Dialect, Window, query  # noqa: PLC0415

    transport.local_only("trail reconcile")
    if date_partition and engine is Engine.DUCKDB:
        raise BadInput("--date-partition is an Athena table's; local files have none")
    window = Window(
        parse_instant(since, "--since") if since else None,
        parse_instant(until, "--until") if until else None,
    )
    source = _source(engine, database, table, output, workgroup, files)
    with runtime.app() as cg:
        rules = cg.policy.trail_rules()
        dialect: Dialect = "duckdb" if engine is Engine.DUCKDB else "trino"
        sql = query(catalogue(), rules, source.table, window, dialect=dialect,
                    date_partition=date_partition)  # fmt: skip
        if print_sql:
            typer.echo(sql)
            return
        if not as_:
            raise BadInput("give --as EMAIL (who is reconciling: a pipeline or admin principal)")
        rows = source.rows(sql, catalogue(), rules, window)
        out = _store(cg, rows, source.name, normalise_email(as_))
    _report(out, json_out)


def _store(cg: Any, rows: Iterable[Mapping[str, object]], name: str, actor: str) -> Any:
    from changegate.integrations.cloudtrail import Item  # noqa: PLC0415
    from changegate.integrations.trail_sql import record  # noqa: PLC0415
    from changegate.services import trail, trail_ingest  # noqa: PLC0415
    from changegate.services.trail_parse import Tally  # noqa: PLC0415
    from changegate.services.views import trail as views  # noqa: PLC0415

    total, position, pending = Tally(), 0, iter(rows)
    while batch := list(islice(pending, BATCH)):
        items = [Item(position + n, record(row)) for n, row in enumerate(batch, start=1)]
        position += len(batch)
        done = cg.run(lambda ctx, i=items: trail_ingest.ingest(ctx, i, name, None), actor=actor)
        total.add(done)
    total.files = 1
    return views.tally(total, cg.read(trail.notice))


def _report(out: Any, json_out: bool) -> None:
    from changegate.cli.trail import _say_tally  # noqa: PLC0415

    if json_out:
        emit_json(out)
        return
    _say_tally(out)
    if not out.new + out.seen:
        say("the query selected no production change or attempt")


class _Athena:
    def __init__(self, database: str, table: str, output: str, workgroup: str | None) -> None:
        from changegate.integrations.trail_athena import Target  # noqa: PLC0415

        self.target = Target(database, table, output, workgroup)
        self.table = self.target.qualified
        self.name = f"athena:{self.table}"

    def rows(self, sql: str, *_: Any) -> Iterator[Mapping[str, object]]:
        import boto3  # type: ignore[import-untyped]  # noqa: PLC0415

        from changegate.integrations.trail_athena import Athena  # noqa: PLC0415

        athena = Athena(boto3.client("athena"), self.target)
        athena.check()
        yield from athena.rows(sql)


class _DuckDB:
    def __init__(self, files: list[Path]) -> None:
        from changegate.integrations.trail_duckdb import TABLE  # noqa: PLC0415

        self.files = files
        self.table = TABLE
        self.name = f"duckdb:{len(files)} files"

    def rows(self, _sql: str, *args: Any) -> Iterator[Mapping[str, object]]:
        from changegate.integrations.trail_duckdb import rows  # noqa: PLC0415

        yield from rows(self.files, *args)


def _source(
    engine: Engine,
    database: str | None,
    table: str | None,
    output: str | None,
    workgroup: str | None,
    files: list[Path] | None,
) -> _Athena | _DuckDB:
    if engine is Engine.DUCKDB:
        if database or table or output or workgroup:
            raise BadInput("--database, --table, --output and --workgroup are Athena's")
        if not files:
            raise BadInput("give --files PATH (log files or folders) for --engine duckdb")
        return _DuckDB(_logs(files))
    if files:
        raise BadInput("--files is for --engine duckdb; Athena reads the table")
    if not (database and table and output):
        raise BadInput("--engine athena needs --database, --table and --output s3://...")
    return _Athena(database, table, output, workgroup)


def _logs(paths: list[Path]) -> list[Path]:
    from changegate.cli.trail import _is_log  # noqa: PLC0415

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and _is_log(p.name))
        elif path.is_file():
            found.append(path)
        else:
            raise BadInput(f"cannot read {path}: no such file or directory")
    if not found:
        raise BadInput(f"no CloudTrail log files under {', '.join(map(str, paths))}")
    return found
