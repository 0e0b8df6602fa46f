"""Widths shared by layers (domain/limits.py) are the ones the tables declare."""

from __future__ import annotations

from sqlalchemy import String, Text

from changegate.db.models import TrailEvent
from changegate.domain.limits import TRAIL_EVENT


def test_the_trail_events_text_widths_are_the_tables() -> None:
    """A CloudTrail worker checks rows against TRAIL_EVENT, not the table: every text column
    of the table is there, with the table's width."""
    declared = {
        c.key: c.type.length
        for c in TrailEvent.__table__.columns
        if isinstance(c.type, String | Text)
    }
    assert len(declared) > 10
    assert dict(TRAIL_EVENT) == declared
