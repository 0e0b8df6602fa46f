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
from changegate.domain.trail.records import (
    Record,
    event_time,
    flag,
    identity_of,
    mapping,
    nonempty,
    string,
)


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
    account = string(record, "recipientAccountId") or string(identity_of(record), "accountId")
    region = string(record, "awsRegion")
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
        nonempty(get("eventSource")),
        nonempty(get("eventName")),
        nonempty(get("eventType")),
    )
    if source is None or name is None or event_type in catalogue.non_api_event_types:
        return Kind.NON_API
    who = get("userIdentity")
    if type(who) is not dict:
        who = mapping(who)
    if (
        event_type in catalogue.service_event_types
        or nonempty(who.get("type")) in catalogue.service_identity_types
        or _invoked_by_aws(nonempty(who.get("invokedBy")), catalogue)
    ):
        return Kind.SERVICE
    if nonempty(get("eventCategory")) in catalogue.data_categories or (
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
    return Kind.ATTEMPT if nonempty(get("errorCode")) else Kind.CHANGE


MEMO = 4_096  # call shapes remembered: a trail repeats a few hundred, over and over


class KindMemo:
    """`kind_of`, and `kept` of that kind, remembered by the values they read (the source,
    name, event type, the identity's type and invoker, the category and flags, whether an
    error came back). Exactly `kind_of` and `kept`: where equal values could read differently
    (1 and True as a flag), or a value cannot be a key, the record is classified afresh.
    Holds at most `MEMO` shapes."""

    __slots__ = ("_seen", "catalogue")

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._seen: dict[tuple[object, ...], tuple[Kind, bool]] = {}

    def __len__(self) -> int:
        """The shapes remembered."""
        return len(self._seen)

    def __call__(self, record: Record) -> Kind:
        return self.sort(record)[0]

    def sort(self, record: Record) -> tuple[Kind, bool]:
        """(`kind_of`, `kept`) of `record`: one lookup a record of a trail's repeated shapes."""
        get = record.get
        who, read_only, management = get("userIdentity"), get("readOnly"), get("managementEvent")
        if type(who) is dict:
            identity, invoked = who.get("type"), who.get("invokedBy")
        elif who is None:
            identity = invoked = None
        else:
            return self._afresh(record)
        if type(read_only) not in _FLAGS or type(management) not in _FLAGS:
            return self._afresh(record)
        error = get("errorCode")
        shape = (
            get("eventSource"),
            get("eventName"),
            get("eventType"),
            identity,
            invoked,
            get("eventCategory"),
            management,
            read_only,
            type(error) is str and error != "",
        )
        try:
            return self._seen[shape]
        except KeyError:
            if len(self._seen) >= MEMO:
                self._seen.clear()
            found = self._seen[shape] = self._afresh(record)
            return found
        except TypeError:  # a list or object where a string belongs
            return self._afresh(record)

    def _afresh(self, record: Record) -> tuple[Kind, bool]:
        kind = kind_of(record, self.catalogue)
        return kind, kept(record, kind, self.catalogue)


# Flag values that no other value equals: not 1 or 1.0, which equal True.
_FLAGS = frozenset({bool, str, type(None)})


def kept(record: Record, kind: Kind, catalogue: Catalogue) -> bool:
    """Whether changegate stores the record: changes and attempts, which CM-5 judges, and the
    calls that say who came into an account (`session_sources`: console sign-ins, role
    assumptions, among them the pipeline's session naming its change). Reads, data events and
    AWS's own calls are only counted: they change no configuration, are most of a trail, and
    stay in CloudTrail's own archive."""
    if kind is Kind.CHANGE or kind is Kind.ATTEMPT:
        return True
    return kind is Kind.READ and nonempty(record.get("eventSource")) in catalogue.session_sources


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
