"""Queries about CAB meetings: the meeting, its agenda, attendance and decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from changegate.db.base import Repository, Slice
from changegate.db.models import (
    Approval,
    CabAgendaItem,
    CabAttendance,
    CabDecision,
    CabMeeting,
)
from changegate.domain.errors import BadInput, Conflict, NotFound

MAX_ID = 2**31 - 1


class CabMeetings(Repository):
    def get(self, meeting_id: int) -> CabMeeting:
        """Raises NotFound for an unknown id (BadInput for one no column could hold)."""
        if not 1 <= meeting_id <= MAX_ID:
            raise BadInput(f"not a CAB meeting id: {meeting_id}")
        found = self.session.get(CabMeeting, meeting_id)
        if found is None:
            raise NotFound(f"no CAB meeting {meeting_id}")
        return found

    def add(self, meeting: CabMeeting) -> CabMeeting:
        self.session.add(meeting)
        self.session.flush()
        return meeting

    def add_row(self, row: CabAgendaItem | CabAttendance | CabDecision) -> None:
        self.session.add(row)
        self.session.flush()

    def save(self, meeting: CabMeeting) -> None:
        """Compare-and-set on the meeting row: a concurrent writer (say, a close racing a
        decision) loses with Conflict."""
        number = meeting.id
        try:
            self.session.flush()
        except StaleDataError:
            raise Conflict(f"CAB meeting {number} was changed meanwhile; retry") from None

    def page(self, limit: int, offset: int) -> Slice[CabMeeting]:
        """Newest meeting first."""
        stmt = select(CabMeeting).order_by(CabMeeting.held_at.desc(), CabMeeting.id.desc())
        return self.paginate(stmt, limit, offset)

    def between(self, start: datetime, end: datetime) -> Sequence[CabMeeting]:
        """Meetings held in [start, end), earliest first."""
        stmt = (
            select(CabMeeting)
            .where(CabMeeting.held_at >= start, CabMeeting.held_at < end)
            .order_by(CabMeeting.held_at, CabMeeting.id)
        )
        return self.session.execute(stmt).scalars().all()

    def items(self, meeting: CabMeeting) -> Sequence[CabAgendaItem]:
        stmt = (
            select(CabAgendaItem)
            .where(CabAgendaItem.meeting_id == meeting.id)
            .order_by(CabAgendaItem.position)
        )
        return self.session.execute(stmt).scalars().all()

    def attendance(self, meeting: CabMeeting) -> Sequence[CabAttendance]:
        stmt = (
            select(CabAttendance)
            .where(CabAttendance.meeting_id == meeting.id)
            .order_by(CabAttendance.attended_at, CabAttendance.id)
        )
        return self.session.execute(stmt).scalars().all()

    def decisions(self, meeting: CabMeeting) -> Sequence[CabDecision]:
        stmt = (
            select(CabDecision)
            .where(CabDecision.meeting_id == meeting.id)
            .order_by(CabDecision.decided_at, CabDecision.id)
        )
        return self.session.execute(stmt).scalars().all()

    def approval_by(self, change_id: int, approver_id: int, version: int) -> Approval:
        """The decision `approver_id` just made on `version` (SoD lets them make one)."""
        stmt = (
            select(Approval)
            .where(
                Approval.change_id == change_id,
                Approval.approver_id == approver_id,
                Approval.version == version,
            )
            .order_by(Approval.id.desc())
        )
        return self.session.execute(stmt).scalars().first() or _missing(change_id)


def _missing(change_id: int) -> Approval:
    raise NotFound(f"no approval recorded for change id {change_id}")
