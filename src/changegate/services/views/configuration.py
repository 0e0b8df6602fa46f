"""Read models of configuration management: baselines, drift, ingests and scans."""

from __future__ import annotations

from typing import Any

from changegate.db.configs import Configs
from changegate.db.inventory import Inventory
from changegate.db.models import Baseline, Drift
from changegate.domain.drift import DriftStatus
from changegate.services.context import Context
from changegate.services.drift import Ingested, ScanResult
from changegate.services.views.common import Instant, Out, Page, check_window


class BaselineOut(Out):
    name: str
    version: int
    status: str
    source: str
    source_ref: str
    sha256: str
    author: str
    approver: str | None
    approved_at: Instant | None
    change: str | None
    resources: int
    # Resources no observation will ever match (no physical id and no literal name).
    unmatched: list[str]
    # Declared properties that observed configuration cannot confirm, across the resources.
    unverifiable: int


class UnverifiableOut(Out):
    path: str
    reason: str


class DeclaredOut(Out):
    type: str
    id: str
    id_source: str  # physical, name, or logical (never matched)
    logical_id: str | None
    properties: dict[str, Any]
    unverifiable: list[UnverifiableOut]


class BaselineDetailOut(BaselineOut):
    declared: list[DeclaredOut]


class DifferenceOut(Out):
    path: str
    expected: Any
    actual: Any


class DriftOut(Out):
    id: int
    resource_type: str
    resource_id: str
    status: str
    authorised_by: str | None
    detected_at: Instant
    due_at: Instant | None
    closed_at: Instant | None
    remediation_seconds: float | None
    reopened: int
    differences: list[DifferenceOut]


class IngestOut(Out):
    added: int
    duplicates: int
    skipped: list[str]


class ScanOut(Out):
    checked: int
    compared: int
    unobserved: int
    opened: list[int]
    reopened: list[int]
    closed: list[int]
    still_open: int
    unverifiable: int  # declared properties of the compared resources no observation confirms


def baseline(b: Baseline) -> BaselineOut:
    return BaselineOut(**_baseline_fields(b))


def baseline_detail(b: Baseline) -> BaselineDetailOut:
    declared = [
        DeclaredOut(
            type=r.resource_type,
            id=r.resource_id,
            id_source=r.id_source,
            logical_id=r.logical_id,
            properties=r.properties,
            unverifiable=[UnverifiableOut(**u) for u in r.unverifiable],
        )
        for r in b.resources
    ]
    return BaselineDetailOut(**_baseline_fields(b), declared=declared)


def _baseline_fields(b: Baseline) -> dict[str, Any]:
    return {
        "name": b.name,
        "version": b.version,
        "status": b.status,
        "source": b.source,
        "source_ref": b.source_ref,
        "sha256": b.source_sha256,
        "author": b.author.email,
        "approver": b.approver.email if b.approver else None,
        "approved_at": b.approved_at,
        "change": b.change_key,
        "resources": len(b.resources),
        "unmatched": [
            r.logical_id or r.resource_id for r in b.resources if r.id_source == "logical"
        ],
        "unverifiable": sum(len(r.unverifiable) for r in b.resources),
    }


def drift(d: Drift) -> DriftOut:
    return DriftOut(
        id=d.id,
        resource_type=d.resource_type,
        resource_id=d.resource_id,
        status=d.status,
        authorised_by=d.authorised_by,
        detected_at=d.detected_at,
        due_at=d.due_at,
        closed_at=d.closed_at,
        remediation_seconds=d.remediation_seconds,
        reopened=d.reopened,
        differences=[DifferenceOut(**x) for x in d.differences],
    )


def ingest(result: Ingested, skipped: list[str]) -> IngestOut:
    return IngestOut(added=result.added, duplicates=result.duplicates, skipped=skipped)


def scan(result: ScanResult) -> ScanOut:
    return ScanOut(
        checked=result.checked,
        compared=result.compared,
        unobserved=result.unobserved,
        opened=result.opened,
        reopened=result.reopened,
        closed=result.closed,
        still_open=result.still_open,
        unverifiable=result.unverifiable,
    )


class ObservedOut(Out):
    """A resource as AWS Config (or Cloud Control) last observed it."""

    resource_type: str
    resource_id: str
    resource_name: str | None
    account_id: str | None
    region: str | None
    status: str  # the latest item's configurationItemStatus
    captured_at: Instant  # the latest observation
    first_seen: Instant
    baseline: str | None  # the approved baseline that declares it; None: none does (CFG-1)


def observed(
    ctx: Context, resource_type: str | None, account: str | None, limit: int, offset: int
) -> Page[ObservedOut]:
    check_window(limit, offset)
    inventory = Inventory(ctx.session)
    found = inventory.page(resource_type, account, limit, offset)
    declaring = inventory.declaring(found.rows)
    items = [
        ObservedOut(
            resource_type=s.resource_type,
            resource_id=s.resource_id,
            resource_name=s.resource_name,
            account_id=s.account_id,
            region=s.region,
            status=s.status,
            captured_at=s.captured_at,
            first_seen=s.first_seen,
            baseline=declaring.get((s.resource_type, s.resource_id))
            or declaring.get((s.resource_type, s.resource_name or "")),
        )
        for s in found.rows
    ]
    return Page.of(items, found.total, limit, offset)


def baselines(ctx: Context, limit: int, offset: int) -> Page[BaselineOut]:
    check_window(limit, offset)
    found = Configs(ctx.session).baseline_page(limit, offset)
    return Page.of([baseline(b) for b in found.rows], found.total, limit, offset)


def show_baseline(ctx: Context, name: str, version: int | None) -> BaselineDetailOut:
    return baseline_detail(Configs(ctx.session).baseline(name, version))


def drifts(ctx: Context, status: DriftStatus | None, limit: int, offset: int) -> Page[DriftOut]:
    check_window(limit, offset)
    found = Configs(ctx.session).drift_page(status.value if status else None, limit, offset)
    return Page.of([drift(d) for d in found.rows], found.total, limit, offset)


def show_drift(ctx: Context, drift_id: int) -> DriftOut:
    return drift(Configs(ctx.session).drift(drift_id))
