"""Local CloudTrail files as AWS's Athena table, in DuckDB: `trail reconcile --engine duckdb`.

The table's columns and types are read from AWS's own definition (cloudtrail_athena.sql), so
the query that Athena runs (integrations/trail_sql.py, transpiled by sqlglot) runs here on a
table of the same shape. Two differences are the reader's, not the table's: Athena's JSON SerDe
matches keys without regard to case and DuckDB's reader does not, so each field is declared in
CloudTrail's own spelling (DuckDB's names are case-insensitive, so `eventid` still finds
`eventID`); and local files come in every shape the streaming reader takes (integrations/
cloudtrail.py): S3 log files `{"Records": [...]}` (gzip or not), NDJSON, single records, and
EventBridge events, where Athena's CloudTrailInputFormat reads log files only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import closing
from functools import cache
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from changegate.domain.errors import BadInput
from changegate.domain.trail.actors import TrailRules
from changegate.domain.trail.classify import Catalogue
from changegate.integrations.trail_sql import ALL_TIME, NAMES, Window, query, table_definition

TABLE = "cloudtrail_logs"
MAX_FILE_BYTES = 512 * 1024 * 1024  # one log file is one JSON object to DuckDB's reader
# Every name in AWS's table, as CloudTrail writes it (CloudTrail user guide, "CloudTrail record
# contents"); `resources` entries spell their ARN in capitals, userIdentity does not.
SPELLINGS = {
    name.lower(): name
    for name in (  # noqa: SIM905 (a paragraph of names reads better than 55 quoted lines)
        "eventVersion userIdentity type principalId arn accountId invokedBy accessKeyId userName "
        "onBehalfOf userId identityStoreArn sessionContext attributes mfaAuthenticated "
        "creationDate sessionIssuer ec2RoleDelivery webIdFederationData federatedProvider "
        "eventTime eventSource eventName awsRegion sourceIPAddress userAgent errorCode "
        "errorMessage requestParameters responseElements additionalEventData requestID eventID "
        "readOnly resources eventType apiVersion recipientAccountId serviceEventDetails "
        "sharedEventID vpcEndpointId vpcEndpointAccountId eventCategory addendum reason "
        "updatedFields originalRequestID originalEventID sessionCredentialFromConsole "
        "edgeDeviceDetails tlsDetails tlsVersion cipherSuite clientProvidedHostHeader "
        "managementEvent"
    ).split()
}
OVERRIDES = {"resources.arn": "ARN"}
PARTITIONS = ("timestamp",)  # AWS's projected partition: a path, not a field of the record


def rows(
    paths: Sequence[Path], catalogue: Catalogue, rules: TrailRules, window: Window = ALL_TIME
) -> list[dict[str, object]]:
    """The production change events and attempts in local files, as Athena would return them
    (values of `trail_sql.NAMES`). Raises BadInput naming a file DuckDB cannot read, before
    anything is returned. The result is small by design (the query's point); the files are
    scanned as a stream, never held."""
    sql = query(catalogue, rules, TABLE, window, dialect="duckdb")
    with closing(duckdb.connect()) as con:
        attach(con, paths)
        try:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            found = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        except duckdb.Error:
            _name_the_bad_file(con, paths)
            raise
    assert tuple(names) == NAMES, names  # the query's own contract
    return found


def attach(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    """Make `cloudtrail_logs` in `con` a view of every record of `paths`."""
    for path in paths:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
    listed = ", ".join(_literal(str(p)) for p in paths)
    con.execute(f"CREATE OR REPLACE VIEW {TABLE} AS {_records(f'[{listed}]')}")


def _name_the_bad_file(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> None:
    for path in paths:
        try:
            con.execute(f"SELECT count(*) FROM ({_records(_literal(str(path)))})").fetchall()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0][:200]
            raise BadInput(f"{path}: not CloudTrail JSON DuckDB can read ({first})") from None


def _records(files: str) -> str:
    """The records of `files` (a SQL string or list literal), whichever shape each file has,
    as rows of AWS's table: a log file's `Records`, an EventBridge event's `detail`, or the
    document itself. DuckDB reads each document as raw JSON and shapes it with one
    json_transform: its struct-typed reader is several times slower on a log file (one object
    holding every record)."""
    source = (
        f"read_json_objects({files}, format = 'unstructured', "
        f"maximum_object_size = {MAX_FILE_BYTES})"
    )
    listed = (
        "CASE WHEN json_exists(json, '$.Records') THEN json -> '$.Records' "
        "WHEN json_exists(json, '$.detail') THEN CASE "
        "WHEN json ->> '$.\"detail-type\"' LIKE '% via CloudTrail' "
        "THEN json_array(json -> '$.detail') END "
        "ELSE json_array(json) END"
    )
    # An export that renamed eventTime (Elastic's @timestamp) reads as the streaming path does.
    return (
        'SELECT * EXCLUDE ("@at") REPLACE (coalesce("eventTime", "@at") AS "eventTime") '
        'FROM (SELECT unnest(r), "@at" FROM ('
        f"SELECT unnest(json_transform({listed}, {_literal(structure())})) AS r, "
        f'json ->> \'$."@timestamp"\' AS "@at" FROM {source}))'
    )


@cache
def structure() -> str:
    """AWS's columns as a json_transform structure, in CloudTrail's spelling: `[{...}]`."""
    fields = {_spelled(c.name): _shape(c.args["kind"], c.name) for c in _columns()}
    return json.dumps([fields], separators=(",", ":"))


def _shape(kind: exp.DataType, path: str) -> object:
    if kind.this == exp.DataType.Type.STRUCT:
        return {
            _spelled(f.name, path): _shape(f.args["kind"], f"{path}.{f.name}")
            for f in kind.expressions
        }
    if kind.this == exp.DataType.Type.ARRAY:
        return [_shape(kind.expressions[0], path)]
    return kind.sql(dialect="duckdb")


def _columns() -> list[exp.ColumnDef]:
    create = sqlglot.parse_one(table_definition(), read="hive")
    schema = create.this
    assert isinstance(schema, exp.Schema)
    return [
        c for c in schema.expressions if isinstance(c, exp.ColumnDef) and c.name not in PARTITIONS
    ]


@cache
def record_type() -> tuple[tuple[str, str], ...]:
    """AWS's columns (less its partition), each (CloudTrail's name, DuckDB type)."""
    return tuple((_spelled(c.name), _spelled_type(c.args["kind"], c.name)) for c in _columns())


def _spelled_type(kind: exp.DataType, path: str) -> str:
    if kind.this == exp.DataType.Type.STRUCT:
        fields = []
        for field in kind.expressions:
            name = field.name
            inner = field.args["kind"]
            fields.append(
                f"{_quoted(_spelled(name, path))} {_spelled_type(inner, f'{path}.{name}')}"
            )
        return f"STRUCT({', '.join(fields)})"
    if kind.this == exp.DataType.Type.ARRAY:
        return f"{_spelled_type(kind.expressions[0], path)}[]"
    return kind.sql(dialect="duckdb")


def _spelled(name: str, parent: str | None = None) -> str:
    path = f"{parent}.{name}" if parent else name
    return OVERRIDES.get(path) or SPELLINGS.get(name.lower(), name)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
