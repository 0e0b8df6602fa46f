"""The populations: one query each over the period, written as CSV (RFC 4180), as a sheet of
one XLSX workbook, and described by an IPE record (the query, its parameters, when, from which
system, how many rows, the CSV's SHA-256), as auditors test information produced by the entity
(AT-C 205.36).

`POPULATIONS` is the one place a population is added: a name, what a row is, and a function
from the period's [start, end) to a column SELECT (in `db/`, where every query lives).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select

from changegate.db import populations as ch
from changegate.db import populations_cab as cab
from changegate.db import populations_detective as dt
from changegate.db import populations_trail as trail
from changegate.domain.audit.facts import Period
from changegate.services.context import Context
from changegate.services.evidence.export_run import ExportRun
from changegate.services.evidence.formats import IPE, XLSX, cell, population_file
from changegate.services.evidence.package import Package
from changegate.services.evidence.xlsx import Workbook

Query = Callable[[datetime, datetime], Select[Any]]
BATCH = 2_000
NUMBERS = (int, float)


@dataclass(frozen=True)
class Population:
    name: str
    row: str  # what one row is, for the auditor
    query: Query


POPULATIONS: tuple[Population, ...] = (
    Population("changes", "a change request with any activity in the period", ch.changes),
    Population(
        "change_versions", "a version of a request created in the period", ch.change_versions
    ),
    Population("approvals", "a CAB or ISO decision made in the period", ch.approvals),
    Population(
        "emergency_changes",
        "an emergency change active in the period, per PIR",
        ch.emergency_changes,
    ),
    Population("test_runs", "a regression-test run recorded in the period", ch.test_runs),
    Population("gate_decisions", "a gate decision made in the period", ch.gate_decisions),
    Population("deployments", "a deployment or rollback started in the period", ch.deployments),
    Population(
        "baselines", "a baseline that existed by the period's end, with its approval", dt.baselines
    ),
    Population("drifts", "a drift detected in the period", dt.drifts),
    Population("waivers", "a waiver whose life overlaps the period", dt.waivers),
    Population("waiver_approvals", "a waiver decision made in the period", dt.waiver_approvals),
    Population("findings", "a finding that occurred in the period", dt.findings),
    Population("reviews", "a review (PIR, quarterly, annual) recorded in the period", dt.reviews),
    Population("cab_meetings", "a CAB meeting held in the period", cab.cab_meetings),
    Population(
        "cab_decisions", "a decision taken at a CAB meeting in the period", cab.cab_decisions
    ),
    Population(
        "aws_events",
        "a change or failed change to a mapped AWS account in the period, from CloudTrail",
        trail.aws_events,
    ),
)


def source_of(ctx: Context) -> str:
    """The system of record: this database, its password hidden."""
    url = ctx.session.get_bind().engine.url
    return f"changegate database {url.render_as_string(hide_password=True)}"


def query_text(ctx: Context, stmt: Select[Any]) -> dict[str, Any]:
    dialect = ctx.session.get_bind().dialect
    compiled = stmt.compile(dialect=dialect)
    return {
        "dialect": dialect.name,
        "sql": str(compiled),
        "parameters": {k: cell(v) for k, v in sorted(compiled.params.items())},
    }


def write(run: ExportRun) -> dict[str, Any]:
    """Every population's CSV, the workbook and ipe.json; adds each one's rows to the manifest."""
    ctx, package, period = run.ctx, run.package, run.period
    records: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="changegate-xlsx-") as tmp:
        book = Workbook(Path(tmp) / "populations.xlsx")
        for population in POPULATIONS:
            records[population.name] = _write_one(ctx, package, period, population, book)
            run.progress(
                f"populations/{population.name}.csv: {records[population.name]['rows']:,} rows"
            )
        _ipe_sheet(book, records.values())
        book.close()
        package.copy_in(XLSX, Path(tmp) / "populations.xlsx")
    package.write_json(IPE, {"period": period.name, "populations": records})
    return {"populations": {name: r["rows"] for name, r in records.items()}}


def _write_one(
    ctx: Context, package: Package, period: Period, population: Population, book: Workbook
) -> dict[str, Any]:
    stmt = population.query(period.start, period.end)
    path = population_file(population.name)
    header = [c.name for c in stmt.selected_columns]
    book.sheet(population.name, header)
    rows = ctx.session.execute(stmt.execution_options(yield_per=BATCH))
    count = 0
    with package.open(path) as sink:
        out = csv.writer(sink, lineterminator="\r\n")
        out.writerow(header)
        for row in rows:
            count += 1
            values = [cell(v) for v in row]
            out.writerow(values)
            # Numbers stay numbers in the sheet; everything else is the CSV's text.
            book.row([v if type(v) in NUMBERS else c for v, c in zip(row, values, strict=True)])
        entry = sink.entry(path)
    return {
        "population": population.name,
        "file": path,
        "row": population.row,
        "columns": header,
        "query": query_text(ctx, stmt),
        "period": {"name": period.name, "start": cell(period.start), "end": cell(period.end)},
        "extracted_at": cell(ctx.now),
        "system_of_record": source_of(ctx),
        "rows": count,
        "sha256": entry.sha256,
    }


def _ipe_sheet(book: Workbook, records: Iterable[dict[str, Any]]) -> None:
    fields = ("population", "file", "rows", "sha256", "extracted_at", "system_of_record")
    book.sheet("IPE", [*fields, "dialect", "sql", "parameters"])
    for r in records:
        query = r["query"]
        params = json.dumps(query["parameters"], sort_keys=True)
        book.row([*(r[f] for f in fields), query["dialect"], query["sql"], params])
