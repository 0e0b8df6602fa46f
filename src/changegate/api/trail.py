"""/api/v1 CloudTrail events (CM-5): near-real-time delivery in, events and coverage out."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from changegate.api.access import CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.db.trail import Filters
from changegate.domain.users import Role
from changegate.integrations import cloudtrail
from changegate.services import findings, trail, trail_ingest
from changegate.services.context import Context
from changegate.services.views import trail as views
from changegate.services.views.common import Page
from changegate.services.views.trail import TrailEventDetailOut, TrailEventOut, TrailIngestOut

router = APIRouter(prefix="/api/v1", tags=["cloudtrail"])
FEEDERS = frozenset({Role.PIPELINE, Role.ADMIN})
READERS = frozenset(findings.READERS)
EventId = Annotated[str, Path(min_length=1, max_length=64)]
ChangeKey = Annotated[str, Path(pattern=r"^[Cc][Hh][Gg]-\d{1,9}$")]
SourceName = Annotated[str, Query(min_length=1, max_length=1024)]


@router.post(
    "/trail/events",
    openapi_extra=allow(FEEDERS),
    summary="Ingest CloudTrail records: EventBridge 'AWS API Call via CloudTrail' events (one "
    'or a list), or a log file\'s {"Records": [...]}',
)
def ingest(
    who: CallerDep,
    document: Annotated[dict[str, Any] | list[Any], Body()],
    source: SourceName = "api",
) -> TrailIngestOut:
    # A list is read as NDJSON, one event a line: each element is judged on its own.
    if isinstance(document, list):
        data = b"\n".join(json.dumps(item).encode() for item in document)
    else:
        data = json.dumps(document).encode()
    label = source if source == "api" else f"api:{source}"

    def one(ctx: Context) -> TrailIngestOut:
        found = trail_ingest.ingest(ctx, cloudtrail.read(io.BytesIO(data)), label, None)
        return views.tally(found, trail.notice(ctx))

    return who.write(one)


@router.get(
    "/trail/events", openapi_extra=allow(READERS), summary="CloudTrail events in time order"
)
def list_events(
    who: CallerDep,
    limit: Limit = 100,
    offset: Offset = 0,
    uncovered: Annotated[
        bool, Query(description="Only production changes nothing covers now")
    ] = False,
    principal: Annotated[str | None, Query(max_length=2048)] = None,
    change: Annotated[str | None, Query(pattern=r"^[Cc][Hh][Gg]-\d{1,9}$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[TrailEventOut]:
    key = change.upper() if change else None
    filters = Filters(principal=principal, change=key, since=since, until=until)
    return who.read(lambda ctx: trail.page(ctx, filters, uncovered, limit, offset))


@router.get(
    "/trail/events/{event_id}",
    openapi_extra=allow(READERS),
    summary="One CloudTrail event: the record, its classification and what covers it",
)
def show_event(who: CallerDep, event_id: EventId) -> TrailEventDetailOut:
    return who.read(lambda ctx: trail.show(ctx, event_id))


@router.get(
    "/changes/{key}/aws-events",
    openapi_extra=allow(READERS),
    summary="The AWS calls a change's pipeline sessions made (their role session names it)",
)
def change_events(
    who: CallerDep, key: ChangeKey, limit: Limit = 100, offset: Offset = 0
) -> Page[TrailEventOut]:
    filters = Filters(change=key.upper())
    return who.read(lambda ctx: trail.page(ctx, filters, False, limit, offset))
