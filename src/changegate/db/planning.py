"""The change calendar's query: the planned windows that touch a range."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from changegate.db.base import Repository
from changegate.db.models import Change

# Withdrawn requests hold no slot on the calendar.
OFF_CALENDAR = ("cancelled", "rejected")


class Planning(Repository):
    def windows(self, start: datetime, end: datetime) -> Sequence[Row[Any]]:
        """(key, title, status, change_type, risk, window_start, window_end, affected_services,
        environments) of the changes whose planned window (both ends set) overlaps
        [start, end), by start then key."""
        c = Change
        return self.session.execute(
            select(
                c.key,
                c.title,
                c.status,
                c.change_type,
                c.risk,
                c.window_start,
                c.window_end,
                c.affected_services,
                c.environments,
            )
            .where(
                c.window_start.is_not(None),
                c.window_end.is_not(None),
                c.window_start < end,
                c.window_end > start,
                c.status.not_in(OFF_CALENDAR),
            )
            .order_by(c.window_start, c.number)
        ).all()
