"""The query behind reminders: changes owing a retroactive approval or a PIR soon."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, or_, select

from changegate.db.base import Repository
from changegate.db.models import Change, User


class Reminders(Repository):
    def owed(self, now: datetime, until: datetime) -> Sequence[Row[Any]]:
        """(key, title, requester email, retro_due_at, retro_approved_at, pir_due_at,
        pir_recorded_at) of changes still owing a retroactive approval or a PIR due in
        (now, until]. Both deadlines are indexed: an idle tick reads nothing."""
        c = Change
        retro = and_(c.retro_approved_at.is_(None), c.retro_due_at > now, c.retro_due_at <= until)
        pir = and_(c.pir_recorded_at.is_(None), c.pir_due_at > now, c.pir_due_at <= until)
        return self.session.execute(
            select(
                c.key,
                c.title,
                User.email,
                c.retro_due_at,
                c.retro_approved_at,
                c.pir_due_at,
                c.pir_recorded_at,
            )
            .join(User, User.id == c.requester_id)
            .where(c.status.not_in(("cancelled", "rejected")), or_(retro, pir))
            .order_by(c.number)
        ).all()
