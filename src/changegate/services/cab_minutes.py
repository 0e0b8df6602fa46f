"""The minutes of a CAB meeting: the canonical document whose SHA-256 is frozen at close, and
the printable HTML and PDF made from the same facts.

The canonical document holds only what cannot change after the meeting (the agenda as pinned,
who attended, each decision with its author, version and time, the minutes text, who closed it
and when), as RFC 8785 JSON, so anyone can re-compute the hash the ledger's closing record holds.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.cab import CabMeetings
from changegate.db.models import CabMeeting
from changegate.services import render
from changegate.services.views.cab import meeting as meeting_view

TEMPLATE = "cab_minutes.html"


class MinutesFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


def document(session: Session, m: CabMeeting) -> dict[str, Any]:
    """The canonical minutes document: {meeting, title, held_at, created_by, attendees[],
    agenda[{..., decisions[]}], minutes, closed_by, closed_at}; instants as `ledger.stamp`
    text (UTC, microseconds)."""
    repo = CabMeetings(session)
    decisions = repo.decisions(m)
    return {
        "meeting": m.id,
        "title": m.title,
        "held_at": ledger.stamp(m.held_at),
        "created_by": m.created_by.email,
        "attendees": [
            {"email": a.user.email, "roles": list(a.roles), "at": ledger.stamp(a.attended_at)}
            for a in repo.attendance(m)
        ],
        "agenda": [
            {
                "position": i.position,
                "change": i.change.key,
                "title": i.title,
                "kind": i.kind,
                "version": i.version,
                "version_hash": i.version_hash,
                "decisions": [
                    {
                        "by": d.decider.email,
                        "role": d.role,
                        "outcome": d.outcome,
                        "version": d.version,
                        "reason": d.reason,
                        "approval_id": d.approval_id,
                        "at": ledger.stamp(d.decided_at),
                    }
                    for d in decisions
                    if d.item_id == i.id
                ],
            }
            for i in repo.items(m)
        ],
        "minutes": m.minutes,
        "closed_by": m.closed_by.email if m.closed_by else None,
        "closed_at": ledger.stamp(m.closed_at) if m.closed_at else None,
    }


def digest(doc: dict[str, Any]) -> str:
    """SHA-256 (hex) of the document's RFC 8785 canonical UTF-8 text."""
    return hashlib.sha256(ledger.canonical(doc).encode()).hexdigest()


def html(session: Session, m: CabMeeting) -> str:
    """The minutes as HTML, open or closed; an open meeting's document says it is not frozen."""
    return render.html(TEMPLATE, {"meeting": meeting_view(session, m)})
