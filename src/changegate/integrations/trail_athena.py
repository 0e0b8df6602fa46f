"""Amazon Athena for `trail reconcile --engine athena`: run the trail query where the trail is.

The query (integrations/trail_sql.py) goes to StartQueryExecution against the database and
table the caller names; GetQueryExecution is polled with a growing pause until the query
SUCCEEDED, FAILED or was CANCELLED; GetQueryResults is read page by page (Athena's first row
of a SELECT's first page holds the column names), each row a mapping of the query's columns
to text or None. Athena API reference: StartQueryExecution, GetQueryExecution,
GetQueryResults, GetDatabase.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from changegate.domain.errors import BadInput
from changegate.integrations.aws_errors import AWS_ERRORS, integration_error
from changegate.integrations.ports import IntegrationError

S3_URL: Final = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$")
NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # Glue database and table names
DONE: Final = ("SUCCEEDED", "FAILED", "CANCELLED")
FIRST_PAUSE, MAX_PAUSE, GROWTH = 0.25, 5.0, 1.5  # seconds between GetQueryExecution calls
ENDPOINT: Final = "athena"


@dataclass(frozen=True)
class Target:
    """Where the query runs and where Athena writes its results."""

    database: str
    table: str
    output: str  # s3://bucket/prefix/
    workgroup: str | None = None
    catalog: str = "AwsDataCatalog"

    def __post_init__(self) -> None:
        if not NAME.match(self.database):
            raise BadInput(f"--database {self.database!r}: not a Glue database name")
        if not NAME.match(self.table):
            raise BadInput(f"--table {self.table!r}: not a Glue table name")
        if not S3_URL.match(self.output):
            raise BadInput(f"--output {self.output!r}: not an s3://bucket/prefix/ URL")

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.table}"


class Athena:
    """One Athena client (boto3's `athena`); `sleep` and `timeout` (seconds) bound the wait."""

    def __init__(
        self,
        client: Any,
        target: Target,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 3600.0,
    ) -> None:
        self.client, self.target, self.sleep, self.timeout = client, target, sleep, timeout

    def check(self) -> None:
        """BadInput if the database is not in the catalogue (before paying for a query)."""
        try:
            self.client.get_database(
                CatalogName=self.target.catalog, DatabaseName=self.target.database
            )
        except AWS_ERRORS as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            if code in ("MetadataException", "EntityNotFoundException"):
                raise BadInput(
                    f"no Athena database {self.target.database!r} in {self.target.catalog}"
                ) from None
            raise integration_error(ENDPOINT, exc) from None

    def rows(self, sql: str) -> Iterator[dict[str, str | None]]:
        """The rows of `sql`; BadInput when Athena says the query failed (its reason)."""
        execution = self._start(sql)
        self._wait(execution)
        yield from self._results(execution)

    def _start(self, sql: str) -> str:
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {
                "Database": self.target.database,
                "Catalog": self.target.catalog,
            },
            "ResultConfiguration": {"OutputLocation": self.target.output},
        }
        if self.target.workgroup:
            request["WorkGroup"] = self.target.workgroup
        try:
            return str(self.client.start_query_execution(**request)["QueryExecutionId"])
        except AWS_ERRORS as exc:
            raise integration_error(ENDPOINT, exc) from None

    def _wait(self, execution: str) -> None:
        pause, waited = FIRST_PAUSE, 0.0
        while True:
            try:
                got = self.client.get_query_execution(QueryExecutionId=execution)
            except AWS_ERRORS as exc:
                raise integration_error(ENDPOINT, exc) from None
            status = got["QueryExecution"]["Status"]
            state = status.get("State")
            if state == "SUCCEEDED":
                return
            if state in DONE:
                reason = " ".join(str(status.get("StateChangeReason", "")).split())[:300]
                raise BadInput(f"Athena query {execution} {state}: {reason or 'no reason given'}")
            if waited >= self.timeout:
                raise IntegrationError(ENDPOINT, None, f"query {execution} still {state}")
            self.sleep(pause)
            waited += pause
            pause = min(pause * GROWTH, MAX_PAUSE)

    def _results(self, execution: str) -> Iterator[dict[str, str | None]]:
        token: str | None = None
        names: list[str] | None = None
        while True:
            request = {"QueryExecutionId": execution, "MaxResults": 1000}
            try:
                page = self.client.get_query_results(
                    **request, **({"NextToken": token} if token else {})
                )
            except AWS_ERRORS as exc:
                raise integration_error(ENDPOINT, exc) from None
            rows = [_values(r) for r in page["ResultSet"].get("Rows", [])]
            if names is None:
                info = page["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
                names = [str(c["Name"]) for c in info]
                if rows and rows[0] == names:
                    rows = rows[1:]  # the header row Athena puts first
            for values in rows:
                yield dict(zip(names, values, strict=True))
            token = page.get("NextToken")
            if not token:
                return


def _values(row: dict[str, Any]) -> list[str | None]:
    # A NULL comes back as a Datum without VarCharValue; an empty string with "".
    return [d.get("VarCharValue") for d in row.get("Data", [])]
