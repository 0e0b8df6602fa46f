"""/api/v1/cab/meetings: CAB meetings, their attendance, decisions, minutes and close."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import AwareDatetime, Field

from changegate.api.access import DECIDERS, EVERYONE, CallerDep, allow
from changegate.api.paging import Limit, Offset
from changegate.api.schemas import In
from changegate.domain.approvals import ApprovalRole
from changegate.domain.cab import MINUTES_MAX, REASON_MAX, TITLE_MAX, Outcome
from changegate.services import cab
from changegate.services.cab_minutes import MinutesFormat
from changegate.services.context import Context
from changegate.services.views import cab as views
from changegate.services.views.cab import MeetingOut, MeetingSummaryOut
from changegate.services.views.common import Page

router = APIRouter(prefix="/api/v1/cab/meetings", tags=["cab"])
MeetingId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class MeetingIn(In):
    at: AwareDatetime = Field(description="When the meeting is held (with a time zone).")
    title: str = Field(default="", max_length=TITLE_MAX)


class AttendIn(In):
    person: str | None = Field(
        default=None,
        max_length=320,
        description="Who is present; only ever the caller (anyone else is refused, 403).",
    )


class CabDecisionIn(In):
    change: str = Field(min_length=1, max_length=40, examples=["CHG-42"])
    outcome: Outcome
    version: int = Field(ge=1, le=2**31 - 1, description="The change's version decided on.")
    reason: str = Field(default="", max_length=REASON_MAX)
    role: ApprovalRole | None = Field(
        default=None, description="cab or iso; by default cab if the caller holds it."
    )


class MinutesIn(In):
    text: str = Field(max_length=MINUTES_MAX)


@router.post(
    "",
    status_code=201,
    summary="Call a CAB meeting; its agenda is every change awaiting CAB now",
    openapi_extra=allow(DECIDERS),
)
def create(body: MeetingIn, who: CallerDep) -> MeetingOut:
    return who.write(
        lambda ctx: views.meeting(ctx.session, cab.create_meeting(ctx, body.at, body.title))
    )


@router.get("", summary="CAB meetings, most recently held first", openapi_extra=allow(EVERYONE))
def list_(who: CallerDep, limit: Limit = 100, offset: Offset = 0) -> Page[MeetingSummaryOut]:
    return who.read(lambda ctx: views.page(ctx, limit, offset))


@router.get(
    "/{meeting_id}",
    summary="One CAB meeting: agenda, attendance, decisions, minutes",
    openapi_extra=allow(EVERYONE),
)
def show(meeting_id: MeetingId, who: CallerDep) -> MeetingOut:
    return who.read(lambda ctx: views.show(ctx, meeting_id))


@router.post(
    "/{meeting_id}/attendance",
    summary="Mark yourself present",
    openapi_extra=allow(DECIDERS),
)
def attend(meeting_id: MeetingId, who: CallerDep, body: AttendIn | None = None) -> MeetingOut:
    person = body.person if body else None
    return who.write(lambda ctx: views.meeting(ctx.session, cab.attend(ctx, meeting_id, person)))


@router.post(
    "/{meeting_id}/decisions",
    summary="Decide an agenda item: approve or reject its current version, or defer it",
    description=(
        "approved/rejected are the caller's approval of the change (the same rules as "
        "`POST /api/v1/changes/{key}/approvals`: SoD, quorum, 409 if the change has moved on "
        "to another version); deferred needs a reason and leaves the change awaiting."
    ),
    openapi_extra=allow(DECIDERS),
)
def decide(meeting_id: MeetingId, body: CabDecisionIn, who: CallerDep) -> MeetingOut:
    def run(ctx: Context) -> MeetingOut:
        cab.decide_item(
            ctx, meeting_id, body.change, body.outcome, body.version, body.reason, body.role
        )
        return views.show(ctx, meeting_id)

    return who.write(run)


@router.put(
    "/{meeting_id}/minutes",
    summary="Replace the minutes' text (until the meeting is closed)",
    openapi_extra=allow(DECIDERS),
)
def minutes(meeting_id: MeetingId, body: MinutesIn, who: CallerDep) -> MeetingOut:
    return who.write(
        lambda ctx: views.meeting(ctx.session, cab.edit_minutes(ctx, meeting_id, body.text))
    )


@router.post(
    "/{meeting_id}/close",
    summary="Close the meeting: freeze it and ledger its minutes' SHA-256",
    openapi_extra=allow(DECIDERS),
)
def close(meeting_id: MeetingId, who: CallerDep) -> MeetingOut:
    return who.write(lambda ctx: views.meeting(ctx.session, cab.close_meeting(ctx, meeting_id)))


@router.get(
    "/{meeting_id}/minutes-document",
    summary="The printable minutes, as HTML or PDF",
    openapi_extra=allow(EVERYONE),
    response_class=Response,
    responses={
        200: {
            "description": "The minutes document",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def minutes_document(
    meeting_id: MeetingId, who: CallerDep, format: MinutesFormat = MinutesFormat.HTML
) -> Response:
    if format is MinutesFormat.PDF:
        _, pdf = who.read(lambda ctx: cab.minutes_document(ctx.session, meeting_id))
        return Response(pdf, media_type="application/pdf")
    html = who.read(lambda ctx: cab.minutes_html(ctx.session, meeting_id))
    return Response(html, media_type="text/html; charset=utf-8")
