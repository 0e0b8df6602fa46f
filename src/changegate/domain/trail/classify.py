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


def classify(record: Record, catalogue: Catalogue, rules: TrailRules) -> Classified:
    """`record` under the catalogue and the policy's `cloudtrail:` section."""
    account = text(record, "recipientAccountId") or text(record, "userIdentity", "accountId")
    region = text(record, "awsRegion")
    environment = rules.environment(account, region)
    who = actor(record, rules)
    return Classified(
        kind_of(record, catalogue),
        environment,
        environment in rules.production,
        who,
        event_time(record),
        account,
        region,
    )


def kind_of(record: Record, catalogue: Catalogue) -> Kind:
    source, name = text(record, "eventSource"), text(record, "eventName")
    event_type = text(record, "eventType")
    if event_type in catalogue.non_api_event_types or not source or not name:
        return Kind.NON_API
    if _by_aws(record, catalogue):
        return Kind.SERVICE
    category = text(record, "eventCategory")
    if category in catalogue.data_categories or flag(record, "managementEvent") is False:
        return Kind.DATA
    if _reads(record, catalogue, source, name):
        return Kind.READ
    return Kind.ATTEMPT if text(record, "errorCode") else Kind.CHANGE


def _by_aws(record: Record, catalogue: Catalogue) -> bool:
    if text(record, "eventType") in catalogue.service_event_types:
        return True
    if text(record, "userIdentity", "type") in catalogue.service_identity_types:
        return True
    invoked = text(record, "userIdentity", "invokedBy")
    return invoked is not None and (
        invoked in catalogue.invoked_by_values or invoked.endswith(catalogue.invoked_by_suffixes)
    )


def _reads(record: Record, catalogue: Catalogue, source: str, name: str) -> bool:
    read_only = flag(record, "readOnly")
    if read_only is None:
        read_only = name.startswith(catalogue.read_prefixes)
    return read_only or catalogue.changes_nothing(source, name)


def needs_cover(found: Classified) -> bool:
    """CM-5 holds a production change to a cover unless AWS or a named workload made it."""
    return found.production_change and found.actor.kind not in (
        ActorKind.SERVICE,
        ActorKind.WORKLOAD,
    )
