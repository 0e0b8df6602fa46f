"""The evidence package's CAB populations: meetings held, and the decisions taken at them
(CM-2's "CAB meeting minutes and approval records"), one SELECT each over [start, end)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from changegate.db.models import (
    CabAgendaItem,
    CabAttendance,
    CabDecision,
    CabMeeting,
    Change,
    User,
)
from changegate.db.populations import between


def cab_meetings(start: datetime, end: datetime) -> Select[Any]:
    """Every meeting held in the period, with its attendance, agenda size and frozen hash."""
    chair, closer = aliased(User), aliased(User)
    attendees = (
        select(func.count(CabAttendance.id))
        .where(CabAttendance.meeting_id == CabMeeting.id)
        .scalar_subquery()
    )
    items = (
        select(func.count(CabAgendaItem.id))
        .where(CabAgendaItem.meeting_id == CabMeeting.id)
        .scalar_subquery()
    )
    return (
        select(
            CabMeeting.id.label("id"),
            CabMeeting.title.label("title"),
            CabMeeting.held_at.label("held_at"),
            CabMeeting.status.label("status"),
            chair.email.label("created_by"),
            attendees.label("attendees"),
            items.label("agenda_items"),
            CabMeeting.closed_at.label("closed_at"),
            closer.email.label("closed_by"),
            CabMeeting.minutes_sha256.label("minutes_sha256"),
        )
        .join(chair, chair.id == CabMeeting.created_by_id)
        .outerjoin(closer, closer.id == CabMeeting.closed_by_id)
        .where(between(CabMeeting.held_at, start, end))
        .order_by(CabMeeting.id)
    )


def cab_decisions(start: datetime, end: datetime) -> Select[Any]:
    """Every decision taken at a CAB meeting in the period (by when it was taken, as the
    approvals population and the ledger count it); an approve or reject names the approval it
    is (the approvals population's id)."""
    decider = aliased(User)
    return (
        select(
            CabDecision.id.label("id"),
            CabDecision.meeting_id.label("meeting_id"),
            Change.key.label("change_key"),
            CabDecision.version.label("version"),
            decider.email.label("decider"),
            CabDecision.role.label("role"),
            CabDecision.outcome.label("outcome"),
            CabDecision.reason.label("reason"),
            CabDecision.approval_id.label("approval_id"),
            CabDecision.decided_at.label("decided_at"),
        )
        .join(CabAgendaItem, CabAgendaItem.id == CabDecision.item_id)
        .join(Change, Change.id == CabAgendaItem.change_id)
        .join(decider, decider.id == CabDecision.decider_id)
        .where(between(CabDecision.decided_at, start, end))
        .order_by(CabDecision.id)
    )
