"""What goes to Linear, queued in the outbox (channel `linear`) in the transaction that caused it.

Three kinds of row, each delivered by services/linear_delivery.py:

- `issue`: a webhook delivery or `linear sync` said an issue changed; the worker re-reads it
  over GraphQL and applies it (services/linear_intake.py).
- `comment`: a complaint about an issue's template or its requester, posted as a comment
  whose id is derived from the issue and the complaint, so a resend is found, not doubled.
- `record`: a ledger record about a linked change or waiver (approval, rejection, gate
  decision, deployment, PIR, finding). The worker builds what it shows when it sends, from
  the current state: the issue's workflow state for the current status, the attachment with
  every approval of the current version (role, who, when), and a comment for the record.
  A resend after a crash therefore shows the same or newer facts, never older ones.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate.db.linear import LinearIssues
from changegate.db.models import Finding
from changegate.db.outbox import Outbox
from changegate.domain.wording import clip

LINEAR: Final = "linear"
SUBJECT_WIDTH: Final = 300  # notifications.subject
# Ledger actions shown on the linked issue; `*.` means every action of that family.
FAMILIES: Final = ("change.", "waiver.", "gate.", "deployment.", "finding.")
QUIET: Final = frozenset({"change.created", "waiver.requested"})  # the issue asked for these
_KEY = re.compile(r"\b(?:CHG|WVR)-\d{1,10}\b")
_NAMESPACE: Final = uuid.UUID("6f6d1a52-4c1b-4a43-9c4e-6a1f1e1b6c11")


def comment_id(issue_id: str, what: str) -> str:
    """A UUID fixed by the issue and what the comment says (Linear takes ids as UUID v4
    strings; a name-based UUID has the same shape and is the same on every resend)."""
    return str(uuid.uuid5(_NAMESPACE, f"{issue_id}:{what}"))


def queue_issue(session: Session, issue_id: str, why: str, now: datetime) -> None:
    """Ask the worker to re-read `issue_id` and apply it; `why` names the delivery or sync."""
    _queue(session, f"linear-issue:{why}", issue_id, f"read Linear issue {issue_id}", {}, now)


def queue_comment(session: Session, issue_id: str, body: str, key: str, now: datetime) -> None:
    """Post `body` on the issue once (`key` tells apart comments that may repeat wording)."""
    ident = comment_id(issue_id, key)
    payload = {"kind": "comment", "comment_id": ident, "text": body}
    _queue(session, f"linear-comment:{ident}", issue_id, clip(body, 80), payload, now)


def queue_record(
    session: Session,
    seq: int,
    action: str,
    subject: str,
    payload: Any,
    now: datetime,
    again: bool = False,
) -> bool:
    """Queue ledger record `seq` for its change's or waiver's issue; False if it has none.
    `again`: `linear sync` re-sends a record already delivered (its sends are idempotent)."""
    if action in QUIET or not action.startswith(FAMILIES):
        return False
    key = _subject_key(session, action, subject, payload)
    link = LinearIssues(session).by_key(key) if key else None
    if link is None:
        return False
    body = {"kind": "record", "seq": seq, "key": key}
    event = f"linear-sync:{seq}:{now.isoformat()}" if again else f"ledger:{seq}:linear"
    _queue(session, event, link.issue_id, f"{action} {key}", body, now)
    return True


def _subject_key(session: Session, action: str, subject: str, payload: Any) -> str | None:
    if action.startswith("finding."):
        row = session.execute(select(Finding).where(Finding.key == subject)).scalar_one_or_none()
        match = _KEY.search(row.subject) if row is not None else None
        return match.group(0) if match else None
    match = _KEY.fullmatch(subject.strip().upper())
    return match.group(0) if match else None


def _queue(
    session: Session, event_key: str, issue_id: str, subject: str, body: Any, now: datetime
) -> None:
    content = body or {"kind": "issue"}
    repo = Outbox(session)
    if repo.queued([event_key]) & {(event_key, LINEAR, issue_id)}:
        return  # the same comment again, or a delivery queued twice: once is enough
    repo.add_many(
        [
            {
                "event_key": event_key,
                "channel": LINEAR,
                "recipient": issue_id,
                "recipient_role": None,
                "subject": clip(subject, SUBJECT_WIDTH),
                "body": json.dumps(content, sort_keys=True),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "claimed_by": None,
                "claimed_until": None,
                "delivered_at": None,
                "last_error": None,
                "lock_version": 1,
            }
        ]
    )
