"""`trail reconcile`: the trail queried in place, its production changes reconciled as by `trail
ingest`. DuckDB over the repository's samples; Athena through boto3 on moto's server (whose
canned answer is what the same query returns over the same files), and on a local Athena peer
for what moto lacks (a FAILED query, results in pages). Bad input: one line, exit 2.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from changegate.domain.trail.actors import AccountMapping, TrailRules
from changegate.integrations.cloudtrail_catalogue import catalogue
from changegate.integrations.trail_duckdb import rows
from changegate.integrations.trail_sql import NAMES
from tests.cli.fake_athena import FakeAthena
from tests.conftest import Result
from tests.fixtures import FIXTURES, files
from tests.moto_peer import moto_server, use_aws

Cli = Callable[..., Result]
OPS = ("--as", "ops@example.com")
SAMPLES = FIXTURES / "cloudtrail"
ATHENA = ("--engine", "athena", "--database", "trails", "--table", "cloudtrail_logs")
OUTPUT = ("--output", "s3://athena-results/changegate/")
ACCOUNTS = [
    {"account": "123456789012", "environment": "production"},
    {"account": "111122223333", "environment": "production"},
    {"account": "774305579662", "environment": "production"},
    {"account": "222222222222", "environment": "staging"},
]
RULES = TrailRules(
    accounts=tuple(AccountMapping(a["account"], a["environment"]) for a in ACCOUNTS),
    production=frozenset({"production"}),
)


@pytest.fixture
def ops(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    policy = tmp_path / "trail-policy.yaml"
    policy.write_text(
        json.dumps({"identity": {"local_decisions": "allow"}, "cloudtrail": {"accounts": ACCOUNTS}})
    )
    monkeypatch.setenv("CHANGEGATE_POLICY", str(policy))
    assert cli("user", "add", "ops@example.com", "--name", "Ops", "--role", "admin").code == 0
    assert cli("user", "add", "ivy@example.com", "--name", "Ivy", "--role", "iso").code == 0
    return cli


def ok(got: Result) -> dict[str, Any]:
    assert got.code == 0, got.err
    out: dict[str, Any] = json.loads(got.out)
    return out


def production(ops: Cli, *extra: str) -> set[tuple[Any, ...]]:
    """Stored production changes and attempts, by what identifies them on every path (records
    of eventVersion 1.0 have no eventID: each path keys them by its own digest)."""
    page = ok(ops("trail", "list", "--json", "--limit", "500", *extra, "--as", "ivy@example.com"))
    return {
        (e["event_time"], e["event_name"], e["principal"], e["kind"], e["environment"])
        for e in page["items"]
        if e["environment"] == "production" and e["kind"] in ("change", "attempt")
    }


def test_duckdb_finds_what_trail_ingest_finds(ops: Cli) -> None:
    got = ok(
        ops("trail", "reconcile", "--engine", "duckdb", "--files", str(SAMPLES), "--json", *OPS)
    )
    assert (got["changes"], got["attempts"], got["reads"], got["new"]) == (7, 1, 0, 8)
    queried, uncovered = production(ops), production(ops, "--uncovered")
    assert len(queried) == 8 and len(uncovered) == 7
    streamed = ops("trail", "ingest", str(SAMPLES), "--json", *OPS)
    assert streamed.code in (0, 1), streamed.err  # 1: a sample is malformed on purpose
    assert json.loads(streamed.out)["changes"] >= 7
    assert production(ops) == queried
    assert production(ops, "--uncovered") == uncovered


def athena_rows() -> list[dict[str, object]]:
    """What Athena answers: the same query over the same samples (DuckDB)."""
    found = list(rows(files("cloudtrail", "**/*.json*"), catalogue(), RULES))
    assert len(found) == 8
    return found


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server(reset=True) as url:
        use_aws(monkeypatch, url)
        yield url


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status in (200, 201)


def athena() -> Any:
    import boto3

    return boto3.client("athena")


def answer_with(url: str, found: list[dict[str, object]]) -> None:
    """Queue Athena's result set for the next query (moto's /moto-api/static/athena/...)."""
    header = {"Data": [{"VarCharValue": n} for n in NAMES]}
    data = [
        {"Data": [{} if r[n] is None else {"VarCharValue": str(r[n])} for n in NAMES]}
        for r in found
    ]
    info = [{"Name": n, "Label": n, "Type": "varchar", "Nullable": "UNKNOWN"} for n in NAMES]
    _post(
        f"{url}/moto-api/static/athena/query-results",
        {"results": [{"rows": [header, *data], "column_info": info}]},
    )


def test_athena_over_moto_reconciles_what_the_query_returns(moto: str, ops: Cli) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket="athena-results")
    athena().start_query_execution(
        QueryString="CREATE DATABASE trails",
        ResultConfiguration={"OutputLocation": "s3://athena-results/ddl/"},
    )
    answer_with(moto, athena_rows())
    sql = ops("trail", "reconcile", *ATHENA, *OUTPUT, "--print-sql")
    assert sql.code == 0 and "FROM trails.cloudtrail_logs" in sql.out
    got = ok(ops("trail", "reconcile", *ATHENA, *OUTPUT, "--json", *OPS))
    assert (got["changes"], got["attempts"], got["new"]) == (7, 1, 8)
    assert len(production(ops, "--uncovered")) == 7
    sent = [
        athena().get_query_execution(QueryExecutionId=q)["QueryExecution"]
        for q in athena().list_query_executions()["QueryExecutionIds"]
    ]
    queries = [s for s in sent if s["Query"].startswith("WITH classified")]
    assert [q["Query"] for q in queries] == [sql.out.rstrip("\n")]
    assert queries[0]["QueryExecutionContext"]["Database"] == "trails"
    assert queries[0]["ResultConfiguration"]["OutputLocation"].startswith(
        "s3://athena-results/changegate/"
    )
    again = ok(ops("trail", "reconcile", *ATHENA, *OUTPUT, "--json", *OPS))
    assert again["new"] == 0  # moto answers an empty result to a query nobody queued for


def one_line_exit_2(got: Result, *words: str) -> None:
    assert got.code == 2, (got.out, got.err)
    lines = got.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in got.err, got.err
    for word in words:
        assert word in lines[0], lines[0]


BAD = [
    ("no --output", [*ATHENA], "--output"),
    ("an s3 URL that is not one", [*ATHENA, "--output", "https://bucket/x"], "s3://"),
    (
        "a database name Glue refuses",
        ["--engine", "athena", "--database", "a b", "--table", "t", *OUTPUT],
        "--database",
    ),
    ("files for Athena", [*ATHENA, *OUTPUT, "--files", str(SAMPLES)], "--files"),
    ("DuckDB without files", ["--engine", "duckdb"], "--files"),
    (
        "DuckDB given a database",
        ["--engine", "duckdb", "--database", "d", "--files", "x"],
        "Athena",
    ),
    ("no such file", ["--engine", "duckdb", "--files", "/nonexistent/trail"], "/nonexistent"),
    (
        "a partition on local files",
        ["--engine", "duckdb", "--files", str(SAMPLES), "--date-partition", "timestamp"],
        "partition",
    ),
    ("a bad --since", ["--engine", "duckdb", "--files", str(SAMPLES), "--since", "May"], "--since"),
]


def test_the_bad_inputs_are_many() -> None:
    assert len(BAD) > 5


@pytest.mark.parametrize(("why", "args", "word"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_writes_nothing(
    ops: Cli, why: str, args: list[str], word: str
) -> None:
    one_line_exit_2(ops("trail", "reconcile", *args, *OPS), word)
    assert production(ops) == set(), why


def test_no_such_database(moto: str, ops: Cli) -> None:
    got = ops(
        "trail",
        "reconcile",
        "--engine",
        "athena",
        "--database",
        "nosuch",
        "--table",
        "cloudtrail_logs",
        *OUTPUT,
        *OPS,
    )
    one_line_exit_2(got, "no Athena database 'nosuch'")
    assert athena().list_query_executions()["QueryExecutionIds"] == []  # nothing was paid for


def test_a_failed_query_is_one_line(ops: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    reason = (
        "TABLE_NOT_FOUND: line 52:8: Table 'awsdatacatalog.trails.cloudtrail_logs' does not exist"
    )
    with FakeAthena(state="FAILED", reason=reason) as fake:
        use_aws(monkeypatch, fake.url)
        one_line_exit_2(
            ops("trail", "reconcile", *ATHENA, *OUTPUT, *OPS), "FAILED", "TABLE_NOT_FOUND"
        )
    assert [op for op, _ in fake.requests] == [
        "GetDatabase",
        "StartQueryExecution",
        "GetQueryExecution",
        "GetQueryExecution",
    ]
    assert production(ops) == set()


def test_results_are_read_page_by_page(ops: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    found = athena_rows()
    with FakeAthena(page_size=3) as fake:
        fake.columns = list(NAMES)
        fake.rows = [[None if r[n] is None else str(r[n]) for n in NAMES] for r in found]
        use_aws(monkeypatch, fake.url)
        got = ok(
            ops("trail", "reconcile", *ATHENA, *OUTPUT, "--workgroup", "audit", "--json", *OPS)
        )
    assert (got["changes"], got["attempts"], got["new"]) == (7, 1, 8)
    pages = [b for op, b in fake.requests if op == "GetQueryResults"]
    assert [p.get("NextToken") for p in pages] == [None, "3", "6"]
    start = next(b for op, b in fake.requests if op == "StartQueryExecution")
    assert start["WorkGroup"] == "audit"
