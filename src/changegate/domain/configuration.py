"""Configuration values that cross from the AWS adapters into the core (CFG-1, CFG-2, CFG-4).

A `DeclaredResource` is what an IaC template says a resource should be (the baseline, CFG-1);
an `ObservedItem` is what AWS Config recorded it to be; a `ResourceDrift` is CloudFormation's own
verdict on a stack resource. All three are plain, immutable values: parsing lives in the
integrations, comparison in `domain.drift`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# An observation's vocabulary: AWS Config's own shape, or CloudFormation's (drift, Cloud Control).
CONFIG, CLOUDFORMATION = "config", "cloudformation"


class ItemStatus(StrEnum):
    """`configurationItemStatus` as AWS Config documents it."""

    OK = "OK"
    DISCOVERED = "ResourceDiscovered"
    NOT_RECORDED = "ResourceNotRecorded"
    DELETED = "ResourceDeleted"
    DELETED_NOT_RECORDED = "ResourceDeletedNotRecorded"


class DriftStatusCfn(StrEnum):
    """`StackResourceDriftStatus` of DescribeStackResourceDrifts."""

    IN_SYNC = "IN_SYNC"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    NOT_CHECKED = "NOT_CHECKED"
    UNKNOWN = "UNKNOWN"
    UNSUPPORTED = "UNSUPPORTED"


class DifferenceKind(StrEnum):
    """`DifferenceType` of a CloudFormation PropertyDifference."""

    ADD = "ADD"
    REMOVE = "REMOVE"
    NOT_EQUAL = "NOT_EQUAL"


@dataclass(frozen=True)
class DeclaredResource:
    """One entry of a template's `Resources`. `properties` keeps intrinsic functions in their
    JSON long form (`{"Ref": "X"}`), because their values are only known at deploy time."""

    logical_id: str
    resource_type: str
    properties: dict[str, object]
    physical_name: str | None = None


@dataclass(frozen=True)
class ObservedItem:
    """One AWS Config configuration item, normalised across the API and notification field
    styles and schema versions 1.2/1.3. `configuration` is None for deleted or unrecorded
    resources; `region` is None only when the item names neither a region nor a zone."""

    resource_type: str
    resource_id: str
    arn: str | None
    account_id: str
    region: str | None
    captured_at: datetime
    status: str
    configuration: dict[str, object] | None
    tags: dict[str, str] = field(default_factory=dict)
    schema_version: str | None = None
    resource_name: str | None = None
    state_id: str | None = None
    supplementary: dict[str, object] = field(default_factory=dict)
    related_events: tuple[str, ...] = ()
    diff: dict[str, object] | None = None
    # "config": AWS Config's own shape (translated at ingest); "cloudformation": already the
    # CloudFormation vocabulary (CloudFormation drift, Cloud Control).
    shape: str = "config"

    @property
    def deleted(self) -> bool:
        return self.status in (ItemStatus.DELETED, ItemStatus.DELETED_NOT_RECORDED)


@dataclass(frozen=True)
class PropertyDifference:
    path: str
    expected: object
    actual: object
    kind: DifferenceKind


@dataclass(frozen=True)
class ResourceDrift:
    stack_id: str
    logical_id: str
    physical_id: str | None
    resource_type: str
    status: DriftStatusCfn
    differences: tuple[PropertyDifference, ...]
    timestamp: datetime
    expected: dict[str, object] | None = None
    actual: dict[str, object] | None = None


CHECKED = {DriftStatusCfn.IN_SYNC, DriftStatusCfn.MODIFIED, DriftStatusCfn.DELETED}


def observed_from_drift(drift: ResourceDrift) -> ObservedItem | None:
    """A CloudFormation drift result as an observation of the resource's actual properties.

    Its properties are CloudFormation-shaped, so they compare directly with a baseline imported
    from the same template. NOT_CHECKED, UNKNOWN and UNSUPPORTED say nothing and are dropped.
    """
    if drift.status not in CHECKED or not drift.physical_id:
        return None
    deleted = drift.status is DriftStatusCfn.DELETED
    parts = drift.stack_id.split(":")
    account = parts[4] if len(parts) > 5 else ""
    region = parts[3] if len(parts) > 5 else None
    return ObservedItem(
        resource_type=drift.resource_type,
        resource_id=drift.physical_id,
        arn=None,
        account_id=account,
        region=region,
        captured_at=drift.timestamp,
        status="ResourceDeleted" if deleted else "OK",
        configuration=None if deleted else dict(drift.actual or {}),
        shape=CLOUDFORMATION,
    )
