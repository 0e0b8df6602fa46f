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

from collections.abc import Iterable, Iterator, Sequence
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
) -> Iterator[dict[str, object]]:
    """The production change events and attempts in local files, as Athena would return them
    (values of `trail_sql.NAMES`). Raises BadInput naming a file DuckDB cannot read."""
    sql = query(catalogue, rules, TABLE, window, dialect="duckdb")
    with closing(duckdb.connect()) as con:
        load(con, paths)
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        assert tuple(names) == NAMES, names  # the query's own contract
        while batch := cursor.fetchmany(1000):
            for values in batch:
                yield dict(zip(names, values, strict=True))


def load(con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> None:
    """Create `cloudtrail_logs` in `con` holding every record of `paths`."""
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM ({_empty()})")
    for path in paths:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: larger than {MAX_FILE_BYTES:,} bytes")
        try:
            con.execute(f"INSERT INTO {TABLE} BY NAME {_records(path)}", [str(path)])
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0][:200]
            raise BadInput(f"{path}: not CloudTrail JSON DuckDB can read ({first})") from None


def _records(path: Path) -> str:
    """The records of one file, whichever shape it has, as rows of the table."""
    fields = ", ".join(f"{_quoted(n)}: '{t}'" for n, t in record_type())
    record = f"STRUCT({', '.join(f'{_quoted(n)} {t}' for n, t in record_type())})"
    columns = (
        f"{{Records: '{record}[]', detail: '{record}', \"detail-type\": 'VARCHAR', "
        f"\"@timestamp\": 'VARCHAR', {fields}}}"
    )
    source = (
        f"read_json(?, format = 'unstructured', columns = {columns}, "
        f"maximum_object_size = {MAX_FILE_BYTES})"
    )
    # An export that renamed eventTime (Elastic's @timestamp) reads as the streaming path does.
    plain = (
        'SELECT * EXCLUDE (Records, detail, "detail-type", "@timestamp") '
        'REPLACE (coalesce(eventTime, "@timestamp") AS eventTime) FROM file '
        "WHERE Records IS NULL AND detail IS NULL"
    )
    return (
        f"WITH file AS (SELECT * FROM {source}) "
        "SELECT unnest(r) FROM (SELECT unnest(Records) AS r FROM file WHERE Records IS NOT NULL) "
        "UNION ALL BY NAME SELECT unnest(detail) FROM file "
        "WHERE \"detail-type\" LIKE '% via CloudTrail' "
        f"UNION ALL BY NAME {plain}"
    )


def _empty() -> str:
    columns = ", ".join(f"CAST(NULL AS {t}) AS {_quoted(n)}" for n, t in record_type())
    return f"SELECT {columns} WHERE false"


@cache
def record_type() -> tuple[tuple[str, str], ...]:
    """AWS's columns (less its partition), each (CloudTrail's name, DuckDB type)."""
    create = sqlglot.parse_one(table_definition(), read="hive")
    schema = create.this
    assert isinstance(schema, exp.Schema)
    out = []
    for column in schema.expressions:
        if isinstance(column, exp.ColumnDef) and column.name not in PARTITIONS:
            kind = column.args["kind"]
            out.append((_spelled(column.name), _spelled_type(kind, column.name)))
    return tuple(out)


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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
