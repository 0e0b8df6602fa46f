"""/api/v1/changes: change requests, decisions and reviews."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from changegate.api.access import (
    CLOSERS,
    DECIDERS,
    EVERYONE,
    IMPLEMENTERS,
    REQUESTERS,
    CallerDep,
    allow,
)
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import ChangeEditIn, ChangeIn, DecisionIn, PirIn
from changegate.api.versions import etag, seen_version
from changegate.db.models import Change
from changegate.domain.changes import ChangeFields, ChangeStatus, Window
from changegate.services import approvals, changes, lifecycle
from changegate.services.context import Context
from changegate.services.views import changes as views
from changegate.services.views.changes import ChangeOut, ChangeSummaryOut, OverdueOut, PirOut
from changegate.services.views.common import Page

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])
RENAMED = {"type": "change_type"}
LISTS = {"commit_authors", "affected_services", "environments"}


@router.post(
    "",
    status_code=201,
    summary="Create a change request (draft)",
    openapi_extra=allow(REQUESTERS),
)
def create(body: ChangeIn, who: CallerDep) -> ChangeOut:
    fields = ChangeFields(
        title=body.title,
        scope=body.scope,
        impact=body.impact,
        rollback_plan=body.rollback_plan,
        risk=body.risk,
        change_type=body.type,
        justification=body.justification,
        ticket=body.ticket,
        commit_authors=tuple(body.commit_authors),
        affected_services=tuple(body.affected_services),
        environments=tuple(body.environments),
        customer_impact=body.customer_impact,
        expected_downtime_minutes=body.expected_downtime_minutes,
        window=Window(body.window_start, body.window_end),
    )
    return who.write(lambda ctx: views.detail(ctx, changes.create(ctx, fields)))


@router.get("", summary="List change requests", openapi_extra=allow(EVERYONE))
def list_(
    who: CallerDep, limit: Limit = 100, offset: Offset = 0, status: ChangeStatus | None = None
) -> Page[ChangeSummaryOut]:
    return who.read(lambda ctx: views.page(ctx, status, limit, offset))


@router.get(
    "/overdue",
    summary="Emergency obligations overdue now (CM-3)",
    openapi_extra=allow(EVERYONE),
)
def overdue(who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Page[OverdueOut]:
    return who.read(lambda ctx: views.overdue(ctx, limit, offset))


@router.get(
    "/{key}",
    summary="One change with its approvals and due dates",
    openapi_extra=allow(EVERYONE),
)
def show(key: str, who: CallerDep, response: Response) -> ChangeOut:
    out = who.read(lambda ctx: views.show(ctx, key))
    response.headers["ETag"] = etag(out.version, out.version_hash)
    return out


@router.patch(
    "/{key}",
    summary="Edit material fields (a new version after submission)",
    openapi_extra=allow(REQUESTERS),
)
def edit(key: str, body: ChangeEditIn, who: CallerDep) -> ChangeOut:
    updates: dict[str, Any] = {}
    for name, value in body.model_dump(exclude_none=True).items():
        updates[RENAMED.get(name, name)] = tuple(value) if name in LISTS else value
    return who.write(lambda ctx: views.detail(ctx, changes.edit(ctx, key, updates)))


def _transition(
    path: str, roles: Any, use_case: Callable[[Context, str], Change], summary: str
) -> None:
    def endpoint(key: str, who: CallerDep) -> ChangeOut:
        return who.write(lambda ctx: views.detail(ctx, use_case(ctx, key)))

    router.add_api_route(
        f"/{{key}}/{path}",
        endpoint,
        methods=["POST"],
        summary=summary,
        name=f"change_{path}",
        response_model=ChangeOut,
        openapi_extra=allow(roles),
    )


_transition("submit", REQUESTERS, changes.submit, "Submit for CAB and ISO approval (CM-1)")
_transition("cancel", REQUESTERS, changes.cancel, "Cancel a change not yet implemented")
_transition(
    "implement",
    IMPLEMENTERS,
    lifecycle.implement,
    "Mark implemented (approved, or an emergency before approval)",
)
_transition("close", CLOSERS, lifecycle.close, "Close an implemented change")


@router.post(
    "/{key}/approvals",
    summary="Approve or reject the version you read",
    description=(
        "Name the version decided on: `version` in the body, or `If-Match` with the ETag that "
        "`GET /api/v1/changes/{key}` returned. 409 if the change has moved on to another "
        "version (the problem names both), 428 if neither is given."
    ),
    openapi_extra=allow(DECIDERS),
)
def decide(
    key: str,
    body: DecisionIn,
    who: CallerDep,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ChangeOut:
    version, version_hash = seen_version(body.version, if_match)
    return who.write(
        lambda ctx: views.detail(
            ctx,
            approvals.decide(
                ctx, key, body.role, body.decision, version, body.comment, version_hash
            ),
        )
    )


@router.post(
    "/{key}/pir",
    status_code=201,
    summary="Record the post-implementation review",
    openapi_extra=allow(CLOSERS),
)
def pir(key: str, body: PirIn, who: CallerDep) -> PirOut:
    return who.write(
        lambda ctx: views.pir(key.upper(), lifecycle.record_pir(ctx, key, body.summary))
    )
