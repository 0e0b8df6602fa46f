"""Read models of CloudTrail events (CM-5): the list, one event, and an ingest's tally."""

from __future__ import annotations

from typing import Any

from changegate.db.models import TrailEvent
from changegate.services.trail_parse import Tally
from changegate.services.views.common import Instant, Out


class TrailEventOut(Out):
    event_id: str
    event_time: Instant
    event_source: str
    event_name: str
    account: str | None
    region: str | None
    environment: str | None
    kind: str  # change | attempt | read | data | service
    actor_kind: str  # person | pipeline | workload | web-identity | service | unknown
    principal: str
    actor: str
    change: str | None  # the change a pipeline's role session named
    error_code: str | None


class CoverOut(Out):
    by: str  # deployment | emergency | waiver
    change: str | None
    evidence: str  # "deployment:45", "change:CHG-9", "waiver:WVR-2"


class TrailEventDetailOut(TrailEventOut):
    source: str
    position: int
    resources: list[str]
    # Only for a production change a person or pipeline made: what covers it (None: nothing).
    needs_cover: bool
    cover: CoverOut | None
    finding: str | None  # the CM-5 finding the audit raised on it, if any
    record: dict[str, Any]


class TrailIngestOut(Out):
    files: int
    new: int
    seen: int
    changes: int
    attempts: int
    reads: int
    data: int
    services: int
    skipped: int
    malformed: list[str]
    uncovered: list[str]  # eventIDs of production changes no deployment or emergency covers
    # Said when the policy maps no AWS account: then nothing is a production change.
    notice: str | None = None


def event(row: TrailEvent) -> TrailEventOut:
    return TrailEventOut(
        event_id=row.event_id,
        event_time=row.event_time,
        event_source=row.event_source,
        event_name=row.event_name,
        account=row.account,
        region=row.region,
        environment=row.environment,
        kind=row.kind,
        actor_kind=row.actor_kind,
        principal=row.principal,
        actor=row.actor_name,
        change=row.change_key,
        error_code=row.error_code,
    )


def tally(found: Tally, notice: str | None) -> TrailIngestOut:
    k = found.kinds
    return TrailIngestOut(
        files=found.files,
        new=found.new,
        seen=found.seen,
        changes=k["change"],
        attempts=k["attempt"],
        reads=k["read"],
        data=k["data"],
        services=k["service"],
        skipped=found.skipped,
        malformed=found.malformed,
        uncovered=found.uncovered,
        notice=notice,
    )
