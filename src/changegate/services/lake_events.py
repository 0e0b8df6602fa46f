"""Queue change and waiver events for CloudTrail Lake, in the transaction of their ledger record.

The outbox row (channel `cloudtrail`) carries the ledger record itself, as canonical JSON:
seq, hash, prev, at, actor, action, subject, payload, plus the CloudTrail event name. The
worker turns it into a CloudTrail Lake audit event when it sends it (the vendor's shape is the
adapter's business, integrations/cloudtrail_lake.py). Queued with the record, so an event is
never lost to a crash between the change and the send, and never sent for a change that was
rolled back.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import LedgerRecord
from changegate.db.outbox import Outbox
from changegate.domain.lake_events import CLOUDTRAIL, RECIPIENT, event_name
from changegate.domain.wording import clip

SUBJECT_WIDTH: Final = 300  # notifications.subject


def event_key(seq: int) -> str:
    return f"ledger:{seq}"


def enqueue(session: Session, seq: int) -> bool:
    """Queue ledger record `seq` if its action is a change or waiver event; False if not."""
    row = session.execute(select(LedgerRecord).where(LedgerRecord.seq == seq)).scalar_one()
    name = event_name(row.action)
    if name is None:
        return False
    body = ledger.canonical(
        {
            "seq": row.seq,
            "hash": row.hash,
            "prev": row.prev_hash,
            "at": ledger.stamp(row.at),
            "actor": row.actor,
            "action": row.action,
            "subject": row.subject,
            # As stored (canonical JSON text), so the event carries the payload that was hashed.
            "payload": row.payload,
            "clock_override": row.clock_override,
            "event_name": name,
        }
    )
    Outbox(session).add_many(
        [
            {
                "event_key": event_key(seq),
                "channel": CLOUDTRAIL,
                "recipient": RECIPIENT,
                "recipient_role": None,
                "subject": clip(f"{name} {row.subject}", SUBJECT_WIDTH),
                "body": body,
                "status": "pending",
                "attempts": 0,
                "created_at": row.at,
                "next_attempt_at": row.at,
                "claimed_by": None,
                "claimed_until": None,
                "delivered_at": None,
                "last_error": None,
                "lock_version": 1,
            }
        ]
    )
    return True
