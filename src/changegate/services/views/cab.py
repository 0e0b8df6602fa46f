"""Read models of CAB meetings: the meeting with its agenda, attendance and decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from changegate.db.cab import CabMeetings
from changegate.db.models import CabAgendaItem, CabDecision, CabMeeting
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window


class AttendeeOut(Out):
    email: str
    name: str
    roles: list[str]  # the CAB and ISO roles they held when they marked themself present
    at: Instant


class CabDecisionOut(Out):
    """One member's decision on an agenda item: `approved`/`rejected` are their approval of
    `version` of the change (`approval_id` the approval it produced); `deferred` leaves the
    change awaiting, with a reason."""

    change: str
    by: str
    role: str
    outcome: str
    version: int
    reason: str
    approval_id: int | None
    at: Instant


class AgendaItemOut(Out):
    """A change awaiting CAB, pinned at `version` when the agenda was made. `moved`: the change
    is now at `current_version`, which is the version a decision must name."""

    position: int
    change: str
    title: str
    kind: str  # approval | retroactive (an emergency awaiting its retro approval)
    version: int
    version_hash: str
    current_version: int
    moved: bool
    change_status: str
    decisions: list[CabDecisionOut]


class MeetingSummaryOut(Out):
    id: int
    title: str
    held_at: Instant
    status: str  # open | closed
    created_by: str
    items: int
    attendees: int
    closed_at: Instant | None
    minutes_sha256: str | None  # the canonical minutes document's SHA-256, fixed at close


class MeetingOut(MeetingSummaryOut):
    created_at: Instant
    minutes: str
    minutes_edited_at: Instant | None
    minutes_edited_by: str | None
    closed_by: str | None
    attendance: list[AttendeeOut]
    agenda: list[AgendaItemOut]


def _decision(item: CabAgendaItem, d: CabDecision) -> CabDecisionOut:
    return CabDecisionOut(
        change=item.change.key,
        by=d.decider.email,
        role=d.role,
        outcome=d.outcome,
        version=d.version,
        reason=d.reason,
        approval_id=d.approval_id,
        at=d.decided_at,
    )


def _item(item: CabAgendaItem, decisions: Sequence[CabDecision]) -> AgendaItemOut:
    return AgendaItemOut(
        position=item.position,
        change=item.change.key,
        title=item.title,
        kind=item.kind,
        version=item.version,
        version_hash=item.version_hash,
        current_version=item.change.version,
        moved=item.change.version != item.version,
        change_status=item.change.status,
        decisions=[_decision(item, d) for d in decisions if d.item_id == item.id],
    )


def meeting(session: Session, m: CabMeeting) -> MeetingOut:
    repo = CabMeetings(session)
    items, attendance, decisions = repo.items(m), repo.attendance(m), repo.decisions(m)
    return MeetingOut(
        **_summary_fields(m, len(items), len(attendance)),
        created_at=m.created_at,
        minutes=m.minutes,
        minutes_edited_at=m.minutes_edited_at,
        minutes_edited_by=m.minutes_edited_by.email if m.minutes_edited_by else None,
        closed_by=m.closed_by.email if m.closed_by else None,
        attendance=[
            AttendeeOut(email=a.user.email, name=a.user.name, roles=a.roles, at=a.attended_at)
            for a in attendance
        ],
        agenda=[_item(i, decisions) for i in items],
    )


def _summary_fields(m: CabMeeting, items: int, attendees: int) -> dict[str, Any]:
    return {
        "id": m.id,
        "title": m.title,
        "held_at": m.held_at,
        "status": m.status,
        "created_by": m.created_by.email,
        "items": items,
        "attendees": attendees,
        "closed_at": m.closed_at,
        "minutes_sha256": m.minutes_sha256,
    }


def summary(session: Session, m: CabMeeting) -> MeetingSummaryOut:
    repo = CabMeetings(session)
    return MeetingSummaryOut(**_summary_fields(m, len(repo.items(m)), len(repo.attendance(m))))


def show(ctx: Context, meeting_id: int) -> MeetingOut:
    return meeting(ctx.session, CabMeetings(ctx.session).get(meeting_id))


def page(ctx: Context, limit: int, offset: int) -> Page[MeetingSummaryOut]:
    """Meetings, the most recently held first."""
    check_window(limit, offset)
    found = CabMeetings(ctx.session).page(limit, offset)
    return Page.of([summary(ctx.session, m) for m in found.rows], found.total, limit, offset)
