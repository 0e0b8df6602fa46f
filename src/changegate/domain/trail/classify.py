"""What kind of call a CloudTrail record is, by the data in the catalogue, not by code.

The order of the steps is the catalogue's (integrations/cloudtrail_catalogue.yaml): not an API
call, made by AWS itself, a data event, a read, a failed write (an attempt), else a change.
A change event in an account the policy maps to a production environment is what CM-5 holds
to a change, an emergency or a waiver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from changegate.domain.trail.actors import Actor, ActorKind, TrailRules, actor
from changegate.domain.trail.records import Record, event_time, flag, text


class Kind(StrEnum):
    CHANGE = "change"
    ATTEMPT = "attempt"  # a write that failed (errorCode): shown and counted, not a finding
    READ = "read"
    DATA = "data"  # a data or network-activity event: objects and invocations, not configuration
    SERVICE = "service"
    NON_API = "non-api"


@dataclass(frozen=True)
class Catalogue:
    """The catalogue file's lists (integrations/cloudtrail_catalogue.py loads it)."""

    non_api_event_types: frozenset[str]
    service_event_types: frozenset[str]
    service_identity_types: frozenset[str]
    invoked_by_suffixes: tuple[str, ...]
    invoked_by_values: frozenset[str]
    data_categories: frozenset[str]
    read_prefixes: tuple[str, ...]
    not_changes: Mapping[str, frozenset[str]]  # event source -> event names
    session_sources: frozenset[str] = frozenset()  # reads kept: who came into an account

    def changes_nothing(self, source: str, name: str) -> bool:
        return name in self.not_changes.get(source, frozenset())


@dataclass(frozen=True)
class Classified:
    kind: Kind
    environment: str | None
    production: bool  # a change or attempt in an account mapped to a production environment
    actor: Actor
    at: datetime | None
    account: str | None  # the record's own recipientAccountId (else the caller's account)
    region: str | None

    @property
    def production_change(self) -> bool:
        return self.kind is Kind.CHANGE and self.production


def classify(
    record: Record, catalogue: Catalogue, rules: TrailRules, kind: Kind | None = None
) -> Classified:
    """`record` under the catalogue and the policy's `cloudtrail:` section (`kind`: its
    `kind_of`, where the caller has it already)."""
    account = text(record, "recipientAccountId") or text(record, "userIdentity", "accountId")
    region = text(record, "awsRegion")
    environment = rules.environment(account, region)
    who = actor(record, rules)
    return Classified(
        kind_of(record, catalogue) if kind is None else kind,
        environment,
        environment in rules.production,
        who,
        event_time(record),
        account,
        region,
    )


def kind_of(record: Record, catalogue: Catalogue) -> Kind:
    """The catalogue's steps in order. Written out field by field, not through `text`: it runs
    for every record of an organisation's trail (bench/trail_bench.py)."""
    get = record.get
    source, name, event_type = (
        _text(get("eventSource")),
        _text(get("eventName")),
        _text(get("eventType")),
    )
    if source is None or name is None or event_type in catalogue.non_api_event_types:
        return Kind.NON_API
    who = get("userIdentity")
    if type(who) is not dict:
        who = _mapping(who)
    if (
        event_type in catalogue.service_event_types
        or _text(who.get("type")) in catalogue.service_identity_types
        or _invoked_by_aws(_text(who.get("invokedBy")), catalogue)
    ):
        return Kind.SERVICE
    if _text(get("eventCategory")) in catalogue.data_categories or (
        get("managementEvent") is not True and flag(record, "managementEvent") is False
    ):
        return Kind.DATA
    read_only = get("readOnly")
    if read_only is not True and read_only is not False:
        read_only = flag(record, "readOnly")
    if read_only is None:
        read_only = name.startswith(catalogue.read_prefixes)
    if read_only or catalogue.changes_nothing(source, name):
        return Kind.READ
    return Kind.ATTEMPT if _text(get("errorCode")) else Kind.CHANGE


def kept(record: Record, kind: Kind, catalogue: Catalogue) -> bool:
    """Whether changegate stores the record: changes and attempts, which CM-5 judges, and the
    calls that say who came into an account (`session_sources`: console sign-ins, role
    assumptions, among them the pipeline's session naming its change). Reads, data events and
    AWS's own calls are only counted: they change no configuration, are most of a trail, and
    stay in CloudTrail's own archive."""
    if kind is Kind.CHANGE or kind is Kind.ATTEMPT:
        return True
    return kind is Kind.READ and _text(record.get("eventSource")) in catalogue.session_sources


_NOTHING: Mapping[str, object] = {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: object) -> Mapping[str, object]:
    # An exact type test first: parsed JSON is dicts, and the ABC check is slow.
    return value if type(value) is dict or isinstance(value, Mapping) else _NOTHING


def _invoked_by_aws(invoked: str | None, catalogue: Catalogue) -> bool:
    return invoked is not None and (
        invoked in catalogue.invoked_by_values or invoked.endswith(catalogue.invoked_by_suffixes)
    )


def needs_cover(found: Classified) -> bool:
    """CM-5 holds a production change to a cover unless AWS or a named workload made it."""
    return found.production_change and found.actor.kind not in (
        ActorKind.SERVICE,
        ActorKind.WORKLOAD,
    )
