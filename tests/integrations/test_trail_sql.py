"""The classification as SQL (integrations/trail_sql.py) selects exactly what the streaming
classifier selects: Athena's query, transpiled by sqlglot, run by DuckDB over the repository's
CloudTrail samples loaded as AWS's Athena table, file by file and all together; and over one
documented record varied along every branch of `kind_of` and of the account mapping.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from changegate.domain.errors import BadInput
from changegate.domain.trail.actors import AccountMapping, TrailRules
from changegate.domain.trail.classify import Kind, classify
from changegate.integrations.cloudtrail import Item, read
from changegate.integrations.cloudtrail_catalogue import catalogue
from changegate.integrations.trail_duckdb import TABLE, attach, record_type, rows
from changegate.integrations.trail_sql import (
    SELECTED,
    Window,
    query,
    record,
    table_definition,
)
from tests.fixtures import files
from tests.unit.test_trail_classify import SSO as SSO_SESSION

RULES = TrailRules(
    accounts=(
        AccountMapping("222222222222", "production", frozenset({"eu-west-1"})),
        AccountMapping("222222222222", "staging"),
        AccountMapping("123456789012", "production"),
        AccountMapping("111122223333", "production"),
        AccountMapping("333333333333", "staging"),
        AccountMapping("774305579662", "production"),
        AccountMapping("123456789123", "production"),
    ),
    production=frozenset({"production"}),
)
SAMPLES = [p for p in files("cloudtrail", "**/*") if p.name.endswith((".json", ".json.gz"))]

Key = tuple[Any, ...]


def streamed(paths: list[Path], rules: TrailRules = RULES) -> Counter[Key]:
    """What the streaming path keeps: its reader, then `classify`."""
    kept: Counter[Key] = Counter()
    for path in paths:
        with path.open("rb") as stream:
            for item in read(stream):
                if isinstance(item, Item):
                    found = classify(item.record, catalogue(), rules)
                    if found.production and found.kind in SELECTED:
                        kept[_key(item.record, found.kind.value)] += 1
    return kept


def queried(paths: list[Path], rules: TrailRules = RULES) -> Counter[Key]:
    return Counter(_key(record(row), str(row["kind"])) for row in rows(paths, catalogue(), rules))


def _key(rec: dict[str, Any], kind: str) -> Key:
    # The documented examples carry no eventID: the record's time and call identify them too.
    return (rec.get("eventID"), rec.get("eventTime"), rec.get("eventName"), kind)


def test_the_samples_are_there() -> None:
    assert len(SAMPLES) >= 20
    assert any(p.name.endswith(".json.gz") for p in SAMPLES)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name[:60] for p in SAMPLES])
def test_each_sample_file_selects_what_the_stream_selects(path: Path) -> None:
    assert queried([path]) == streamed([path])


def test_all_samples_together_by_value() -> None:
    together = queried(SAMPLES)
    assert together == streamed(SAMPLES)
    kinds = Counter(key[-1] for key in together.elements())
    assert kinds == {"change": 7, "attempt": 1}


def test_the_table_has_every_record_the_stream_reads() -> None:
    with duckdb.connect() as con:
        attach(con, SAMPLES)
        (count,) = con.execute(
            f"SELECT count(*) FROM {TABLE} WHERE eventname IS NOT NULL"
        ).fetchone() or (0,)
    read_by_stream = 0
    for path in SAMPLES:
        with path.open("rb") as stream:
            read_by_stream += sum(
                isinstance(i, Item) and "eventName" in i.record for i in read(stream)
            )
    assert count == read_by_stream == 143


def base() -> dict[str, Any]:
    """The user guide's IAM CreateUser record (log-file-examples #04) with a 1.11 record's
    fields: the shape every variant below starts from."""
    doc = json.loads(
        SAMPLES_BY_NAME["log-file-examples__04__cloudtrail-log-file-examples-iam.json"]
    )
    rec: dict[str, Any] = doc["Records"][0]
    return rec | {
        "eventVersion": "1.11",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
        "recipientAccountId": "123456789012",
    }


SAMPLES_BY_NAME = {p.name: p.read_text() for p in SAMPLES if p.suffix == ".json"}
SSO = SSO_SESSION | {"accountId": "123456789012"}
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("a change", {}),
    ("an attempt", {"errorCode": "AccessDenied", "errorMessage": "no"}),
    ("an empty errorCode is none", {"errorCode": ""}),
    ("readOnly true", {"readOnly": True}),
    ("readOnly as text", {"readOnly": "TRUE"}),
    ("readOnly false on a Get name", {"readOnly": False, "eventName": "GetUser"}),
    ("no readOnly, a Get name", {"readOnly": None, "eventName": "GetUser"}),
    ("no readOnly, a write name", {"readOnly": None}),
    ("readOnly garbage, a List name", {"readOnly": "maybe", "eventName": "ListUsers"}),
    ("a sign-in", {"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin"}),
    (
        "a failed AssumeRole",
        {
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "errorCode": "AccessDenied",
        },
    ),
    (
        "the same name, another source",
        {"eventSource": "iam.amazonaws.com", "eventName": "ConsoleLogin"},
    ),
    ("a service event", {"eventType": "AwsServiceEvent"}),
    (
        "an AWSService identity",
        {"userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}},
    ),
    ("invoked by a service", {"userIdentity": SSO | {"invokedBy": "cloudformation.amazonaws.com"}}),
    ("invoked by AWS Internal", {"userIdentity": {"invokedBy": "AWS Internal"}}),
    ("invoked by something else", {"userIdentity": SSO | {"invokedBy": "console"}}),
    ("a data event", {"eventCategory": "Data", "eventName": "PutObject"}),
    ("an Insights record", {"eventType": "AwsCloudTrailInsight"}),
    ("no eventName", {"eventName": None}),
    ("an empty eventSource", {"eventSource": ""}),
    ("an SSO person", {"userIdentity": SSO}),
    ("no recipient: the caller's account", {"recipientAccountId": None}),
    ("an empty recipient", {"recipientAccountId": ""}),
    ("an unmapped account", {"recipientAccountId": "999999999999"}),
    ("a staging account", {"recipientAccountId": "333333333333"}),
    (
        "a region-scoped production",
        {"recipientAccountId": "222222222222", "awsRegion": "eu-west-1"},
    ),
    ("the same account elsewhere", {"recipientAccountId": "222222222222"}),
    ("no region", {"recipientAccountId": "222222222222", "awsRegion": None}),
]


def test_the_variants_reach_every_kind_and_both_sides_of_production() -> None:
    found = [classify(_variant(i, f), catalogue(), RULES) for i, (_, f) in enumerate(VARIANTS)]
    assert {f.kind for f in found} == set(Kind)
    assert {f.production for f in found if f.kind is Kind.CHANGE} == {True, False}


def _variant(i: int, fields: dict[str, Any]) -> dict[str, Any]:
    rec = base() | fields | {"eventID": f"00000000-0000-4000-8000-{i:012d}"}
    return {k: v for k, v in rec.items() if v is not None}


def test_every_variant_is_selected_as_the_stream_selects(tmp_path: Path) -> None:
    path = tmp_path / "variants.json.gz"
    lines = [json.dumps(_variant(i, f)) for i, (_, f) in enumerate(VARIANTS)]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    expected = streamed([path])
    assert queried([path]) == expected
    assert sum(expected.values()) == 11


def test_a_management_event_column_is_read_when_the_table_has_one() -> None:
    sql = query(catalogue(), RULES, "t", management_event=True)
    assert "LOWER(managementevent) = 'false'" in sql
    assert "managementevent" not in query(catalogue(), RULES, "t")


def test_nothing_is_selected_until_production_is_mapped() -> None:
    assert queried(SAMPLES, TrailRules()) == Counter() == streamed(SAMPLES, TrailRules())


def test_the_window_and_the_date_partition() -> None:
    window = Window(datetime(2025, 3, 6, tzinfo=UTC), datetime(2025, 3, 7, tzinfo=UTC))
    sql = query(catalogue(), RULES, "trails.cloudtrail_logs_pp", window, date_partition="timestamp")
    assert (
        "eventtime >= '2025-03-06T00:00:00Z'" in sql and "eventtime < '2025-03-07T00:00:00Z'" in sql
    )
    assert "\"timestamp\" >= '2025/03/06'" in sql and "\"timestamp\" <= '2025/03/07'" in sql
    docs = rows(
        SAMPLES,
        catalogue(),
        RULES,
        Window(datetime(2014, 1, 1, tzinfo=UTC), datetime(2015, 1, 1, tzinfo=UTC)),
    )
    assert [r["event_name"] for r in docs] == [
        "CreateKeyPair",
        "StopInstances",
        "StartInstances",
        "CreateUser",
        "AddUserToGroup",
    ]


def test_the_duckdb_query_is_the_transpiled_athena_query() -> None:
    trino = query(catalogue(), RULES, TABLE)
    duck = query(catalogue(), RULES, TABLE, dialect="duckdb")
    assert duck == sqlglot.transpile(trino, read="trino", write="duckdb", pretty=True)[0]
    assert "TRANSFORM(resources, r -> r.arn)" in trino and "LIST_TRANSFORM" in duck


def test_a_record_is_rebuilt_from_its_row() -> None:
    rec = _variant(
        0,
        {
            "userIdentity": SSO,
            "resources": [
                {"ARN": "arn:aws:iam::1:user/Bob", "accountId": "1", "type": "AWS::IAM::User"}
            ],
        },
    )
    row = {
        "event_id": rec["eventID"],
        "event_time": rec["eventTime"],
        "read_only": "false",
        "principal_arn": SSO["arn"],
        "issuer_name": "AWSReservedSSO_Admin_0a1b2c",
        "request_parameters": '{"userName":"Bob"}',
        "resource_arns": '["arn:aws:iam::1:user/Bob"]',
        "resource_types": '["AWS::IAM::User"]',
    }
    rebuilt = record(row)
    assert rebuilt["readOnly"] is False and rebuilt["requestParameters"] == {"userName": "Bob"}
    assert rebuilt["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] == (
        "AWSReservedSSO_Admin_0a1b2c"
    )
    assert rebuilt["resources"] == [{"ARN": "arn:aws:iam::1:user/Bob", "type": "AWS::IAM::User"}]


def test_the_table_is_the_one_aws_publishes() -> None:
    ddl = table_definition()
    assert "'com.amazon.emr.cloudtrail.CloudTrailInputFormat'" in ddl
    assert "'org.apache.hive.hcatalog.data.JsonSerDe'" in ddl
    names = [n for n, _ in record_type()]
    assert names[:3] == ["eventVersion", "userIdentity", "eventTime"] and len(names) == 29
    assert '"ARN" TEXT' in dict(record_type())["resources"]


def test_a_file_duckdb_cannot_read_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"Records": [{"eventID": ')
    with pytest.raises(BadInput, match=r"broken\.json: not CloudTrail JSON"):
        list(rows([broken], catalogue(), RULES))
