"""CM-5's classification as one SQL query, so the trail is queried where it lives (issue 14).

An organisation's trail holds billions of records; the streaming path (services/trail_ingest.py)
reads every one. At that scale Athena (or CloudTrail Lake, both Trino) runs this query over the
table AWS publishes for CloudTrail (cloudtrail_athena.sql beside this module), and only the
production change events and attempts come back to be reconciled. The query is written once, in
Trino's dialect, from the same data the streaming path reads: the catalogue
(cloudtrail_catalogue.yaml) and the policy's `cloudtrail:` section (`TrailRules`). sqlglot
transpiles that text for DuckDB, which runs it over local files (integrations/trail_duckdb.py);
a test holds both to the streaming classifier, record for record.

Each step of `domain.trail.classify.kind_of` is one WHEN of the `kind` CASE, in the same order;
absent or empty fields are NULL there as they are `None` in `records.text`, and a CASE treats a
NULL condition as false, as the domain treats `None`.

Athena's table has no `managementEvent` column; the domain also reads a data event from
`managementEvent: false` where `eventCategory` is absent (eventVersion 1.06 and 1.07). A table
that declares `managementevent STRING` is read the same way with `management_event=True`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import sqlglot
from sqlglot import exp

from changegate.domain.trail.actors import TrailRules
from changegate.domain.trail.classify import Catalogue, Kind

TABLE_FILE = "cloudtrail_athena.sql"
SELECTED = (Kind.CHANGE, Kind.ATTEMPT)  # what comes back; reconcile holds the changes to cover
Dialect = Literal["trino", "duckdb"]


@dataclass(frozen=True)
class Column:
    """One result column: the table's field it reads and where it goes in a rebuilt record."""

    name: str  # the result column
    path: str  # the field in the Athena table (its lower-case names)
    record: tuple[str, ...]  # the key path in a CloudTrail record (CloudTrail's spelling)
    decode: Literal["text", "json", "flag"] = "text"


_ISSUER = ("userIdentity", "sessionContext", "sessionIssuer")
COLUMNS: tuple[Column, ...] = (
    Column("event_id", "eventid", ("eventID",)),
    Column("event_time", "eventtime", ("eventTime",)),
    Column("event_version", "eventversion", ("eventVersion",)),
    Column("event_source", "eventsource", ("eventSource",)),
    Column("event_name", "eventname", ("eventName",)),
    Column("event_type", "eventtype", ("eventType",)),
    Column("event_category", "eventcategory", ("eventCategory",)),
    Column("read_only", "readonly", ("readOnly",), "flag"),
    Column("aws_region", "awsregion", ("awsRegion",)),
    Column("recipient_account", "recipientaccountid", ("recipientAccountId",)),
    Column("identity_type", "useridentity.type", ("userIdentity", "type")),
    Column("principal_arn", "useridentity.arn", ("userIdentity", "arn")),
    Column("principal_id", "useridentity.principalid", ("userIdentity", "principalId")),
    Column("principal_account", "useridentity.accountid", ("userIdentity", "accountId")),
    Column("user_name", "useridentity.username", ("userIdentity", "userName")),
    Column("invoked_by", "useridentity.invokedby", ("userIdentity", "invokedBy")),
    Column("issuer_type", "useridentity.sessioncontext.sessionissuer.type", (*_ISSUER, "type")),
    Column("issuer_arn", "useridentity.sessioncontext.sessionissuer.arn", (*_ISSUER, "arn")),
    Column(
        "issuer_name", "useridentity.sessioncontext.sessionissuer.username", (*_ISSUER, "userName")
    ),
    Column("error_code", "errorcode", ("errorCode",)),
    Column("error_message", "errormessage", ("errorMessage",)),
    Column("source_ip", "sourceipaddress", ("sourceIPAddress",)),
    Column("user_agent", "useragent", ("userAgent",)),
    Column("request_id", "requestid", ("requestID",)),
    Column("request_parameters", "requestparameters", ("requestParameters",), "json"),
    Column("response_elements", "responseelements", ("responseElements",), "json"),
    Column("additional_event_data", "additionaleventdata", ("additionalEventData",), "json"),
)
# Computed by the query, not copied: shown to people, and `resources` is rebuilt from the two
# arrays (an array of rows would come back from Athena as text no parser can trust).
COMPUTED = ("account", "environment", "kind", "session_name", "resource_arns", "resource_types")
NAMES = tuple(c.name for c in COLUMNS) + COMPUTED


@dataclass(frozen=True)
class Window:
    """Event times to read, `since` included, `until` excluded (UTC); None: unbounded."""

    since: datetime | None = None
    until: datetime | None = None


ALL_TIME = Window()


def query(
    catalogue: Catalogue,
    rules: TrailRules,
    table: str,
    window: Window = ALL_TIME,
    *,
    dialect: Dialect = "trino",
    management_event: bool = False,
    date_partition: str | None = None,
) -> str:
    """The query selecting the production change events and attempts of `table` (`db.table`,
    or a CloudTrail Lake event data store id), its columns `NAMES`, oldest first.

    `date_partition` names a `yyyy/MM/dd` partition column (AWS's projected `timestamp`) that
    the window also prunes by, so Athena reads only those days' files."""
    trino = _tree(catalogue, rules, table, window, management_event, date_partition)
    text = trino.sql(dialect="trino", pretty=True)
    if dialect == "trino":
        return text
    return sqlglot.transpile(text, read="trino", write=dialect, pretty=True)[0]


def _tree(
    catalogue: Catalogue,
    rules: TrailRules,
    table: str,
    window: Window,
    management_event: bool,
    date_partition: str | None,
) -> exp.Select:
    inner = (
        exp.select("*")
        .select(_account().as_("account"))
        .select(_environment(rules).as_("environment"))
        .select(_kind(catalogue, management_event).as_("kind"))
        .from_(exp.to_table(table, dialect="trino"))
        .where(_window(window, date_partition))
    )
    picked = [_col(c.path).as_(c.name) for c in COLUMNS]
    computed = [
        exp.column("account"),
        exp.column("environment"),
        exp.column("kind"),
        _session().as_("session_name"),
        _json_list("arn").as_("resource_arns"),
        _json_list("type").as_("resource_types"),
    ]
    kinds = exp.column("kind").isin(*(k.value for k in SELECTED))
    production = _among(exp.column("environment"), rules.production)
    return (
        exp.select(*picked, *computed)
        .with_("classified", as_=inner)
        .from_("classified")
        .where(exp.and_(kinds, production))
        .order_by("eventtime", "eventid")
    )


def _kind(catalogue: Catalogue, management_event: bool) -> exp.Case:
    """`classify.kind_of`, step for step."""
    return (
        exp.Case()
        .when(_non_api(catalogue), _lit(Kind.NON_API))
        .when(_by_aws(catalogue), _lit(Kind.SERVICE))
        .when(_data(catalogue, management_event), _lit(Kind.DATA))
        .when(_reads(catalogue), _lit(Kind.READ))
        .when(_text("errorcode").is_(exp.null()).not_(), _lit(Kind.ATTEMPT))
        .else_(_lit(Kind.CHANGE))
    )


def _non_api(catalogue: Catalogue) -> exp.Expr:
    return exp.or_(
        _among(_text("eventtype"), catalogue.non_api_event_types),
        _text("eventsource").is_(exp.null()),
        _text("eventname").is_(exp.null()),
    )


def _by_aws(catalogue: Catalogue) -> exp.Expr:
    invoked = _text("useridentity.invokedby")
    return exp.or_(
        _among(_text("eventtype"), catalogue.service_event_types),
        _among(_text("useridentity.type"), catalogue.service_identity_types),
        _among(invoked, catalogue.invoked_by_values),
        *(_ends_with(invoked, s) for s in catalogue.invoked_by_suffixes),
    )


def _data(catalogue: Catalogue, management_event: bool) -> exp.Expr:
    category = _among(_text("eventcategory"), catalogue.data_categories)
    if not management_event:
        return category
    false = exp.EQ(this=exp.Lower(this=_col("managementevent")), expression=_lit("false"))
    return exp.or_(category, false)


def _reads(catalogue: Catalogue) -> exp.Expr:
    flag = exp.Lower(this=_col("readonly"))
    by_name = exp.or_(*(_starts_with(p) for p in catalogue.read_prefixes))
    read_only = (
        exp.Case()
        .when(flag.copy().isin("true", "false"), exp.EQ(this=flag.copy(), expression=_lit("true")))
        .else_(by_name)
    )
    nothing = [
        exp.and_(
            exp.EQ(this=_col("eventsource"), expression=_lit(source)),
            _col("eventname").isin(*sorted(names)),
        )
        for source, names in sorted(catalogue.not_changes.items())
        if names
    ]
    return exp.or_(exp.paren(read_only), *nothing)


def _account() -> exp.Expr:
    """`classify`'s account: the record's recipient, else the caller's."""
    return exp.func("COALESCE", _text("recipientaccountid"), _text("useridentity.accountid"))


def _environment(rules: TrailRules) -> exp.Expr:
    """`TrailRules.environment`: region-scoped mappings first, then whole-account ones."""
    case = exp.Case()
    for m in rules.accounts:
        if m.regions:
            region = _text("awsregion").isin(*sorted(m.regions))
            case = case.when(exp.and_(_eq(_account(), m.account), region), _lit(m.environment))
    for m in rules.accounts:
        if m.regions is None:
            case = case.when(_eq(_account(), m.account), _lit(m.environment))
    return case if case.args.get("ifs") else exp.cast(exp.null(), "VARCHAR")


def _window(window: Window, date_partition: str | None) -> exp.Expr:
    parts: list[exp.Expr] = []
    if window.since is not None:
        parts.append(exp.GTE(this=_col("eventtime"), expression=_lit(_iso(window.since))))
    if window.until is not None:
        parts.append(exp.LT(this=_col("eventtime"), expression=_lit(_iso(window.until))))
    if date_partition is not None:
        day = exp.column(date_partition, quoted=True)
        if window.since is not None:
            parts.append(exp.GTE(this=day, expression=_lit(_day(window.since))))
        if window.until is not None:
            parts.append(exp.LTE(this=day.copy(), expression=_lit(_day(window.until))))
    return exp.and_(*parts) if parts else exp.true()


def _session() -> exp.Expr:
    """The role session name (`actors._session`): a session ARN's last part."""
    arn = _col("useridentity.arn")
    has_slash = exp.GT(this=exp.func("STRPOS", arn, _lit("/")), expression=exp.Literal.number(0))
    session = _col("useridentity.type").isin("AssumedRole", "FederatedUser")
    last = exp.func("REGEXP_EXTRACT", arn.copy(), _lit("[^/]*$"))
    return exp.Case().when(exp.and_(session, has_slash), last).else_(exp.null())


def _json_list(field: str) -> exp.Expr:
    return sqlglot.parse_one(
        f"json_format(CAST(transform(resources, r -> r.{field}) AS JSON))", read="trino"
    )


def _col(path: str) -> exp.Expr:
    return sqlglot.parse_one(path, read="trino")


def _text(path: str) -> exp.Expr:
    """A field as `records.text` reads it: an empty string is no value."""
    return exp.Nullif(this=_col(path), expression=_lit(""))


def _lit(value: str) -> exp.Literal:
    return exp.Literal.string(str(value))


def _eq(left: exp.Expr, value: str) -> exp.Expr:
    return exp.EQ(this=left.copy(), expression=_lit(value))


def _among(value: exp.Expr, names: frozenset[str]) -> exp.Expr:
    return value.isin(*sorted(names)) if names else exp.false()


def _starts_with(prefix: str) -> exp.Expr:
    return exp.func("STARTS_WITH", _col("eventname"), _lit(prefix))


def _ends_with(value: exp.Expr, suffix: str) -> exp.Expr:
    # Trino has no ends_with: compare the tail (substr counts from the end when negative).
    tail = exp.func("SUBSTR", value.copy(), exp.Literal.number(-len(suffix)))
    return exp.EQ(this=tail, expression=_lit(suffix))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y/%m/%d")


def record(row: Mapping[str, object]) -> dict[str, Any]:
    """The CloudTrail record a result row stands for, in CloudTrail's own spelling, holding what
    the streaming classifier and `trail show` read (not the fields the query leaves out)."""
    out: dict[str, Any] = {}
    for column in COLUMNS:
        value = row.get(column.name)
        if value is not None:
            _put(out, column.record, _decoded(column, str(value)))
    listed = _resources(row.get("resource_arns"), row.get("resource_types"))
    if listed is not None:
        out["resources"] = listed
    return out


def _decoded(column: Column, value: str) -> object:
    if column.decode == "flag" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if column.decode == "json":
        try:
            return json.loads(value)
        except ValueError:
            return value  # kept as the table held it: evidence is not rewritten
    return value


def _put(out: dict[str, Any], path: Sequence[str], value: object) -> None:
    for key in path[:-1]:
        out = out.setdefault(key, {})
    out[path[-1]] = value


def _resources(arns: object, types: object) -> list[dict[str, object]] | None:
    try:
        listed = json.loads(str(arns)) if arns is not None else None
        kinds = json.loads(str(types)) if types is not None else None
    except ValueError:
        return None
    if not isinstance(listed, list):
        return None
    kinds = kinds if isinstance(kinds, list) and len(kinds) == len(listed) else [None] * len(listed)
    return [{"ARN": a, "type": t} for a, t in zip(listed, kinds, strict=True)]


@cache
def table_definition() -> str:
    """AWS's CREATE EXTERNAL TABLE for CloudTrail (partition projection), as packaged."""
    return resources.files("changegate.integrations").joinpath(TABLE_FILE).read_text()
