"""Deliver the notification outbox: claim due rows, then settle each attempt.

The entry point (the worker) runs each step in a transaction of its own and sends in between,
outside any transaction:

1. `claim`: due rows are marked as held by this worker until `now + hold`. It commits before
   anything is sent, so a second worker never picks up a row that is being sent.
2. The send, through a Notifier port.
3. `delivered` or `failed`: the outcome, written only if this worker's claim still holds.

A worker that dies between 1 and 3 leaves a claim that runs out; the row is then due again and
is sent again. Delivery is therefore at least once: the copy carries the same identity
(OutgoingMessage.outbox_id and event_key, the email's Message-ID) so a receiver can drop it.
A row that keeps failing ends as "dead": it stays in the table, visible in `outbox list`, until
an administrator retries it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from changegate.db.models import Notification
from changegate.db.outbox import DEAD, DELIVERED, Outbox
from changegate.domain.errors import BadInput
from changegate.domain.notifications import (
    NotificationAction,
    NotificationStatus,
    after_failure,
    transition,
)
from changegate.integrations.ports import OutgoingMessage
from changegate.services.context import Context

STATUSES: Final = tuple(s.value for s in NotificationStatus)
BATCH: Final = 20
# Longer than a batch can take to send (SMTP timeouts are 10 s per step): a claim that ran out
# while its holder was still sending would let a second worker send the same row.
CLAIM_HOLD: Final = timedelta(minutes=5)
MAX_ATTEMPTS: Final = 12
FIRST_RETRY: Final = timedelta(seconds=30)
LONGEST_RETRY: Final = timedelta(hours=1)
ERROR_LIMIT: Final = 1000


@dataclass(frozen=True)
class Claim:
    """A row this worker holds until `until`; `version` is the lock_version its claim wrote,
    which settling names, so an expired claim that another worker took over is noticed."""

    id: int
    channel: str
    version: int
    until: datetime
    attempts: int  # before this one
    message: OutgoingMessage


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, ... at most an hour.

    With 12 attempts a message is declared dead about five hours after it was queued, long
    enough to ride out a relay's maintenance window, short enough that someone looks today.
    """
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 10)), LONGEST_RETRY)


def claim(
    ctx: Context,
    worker: str,
    channels: Collection[str],
    limit: int = BATCH,
    hold: timedelta = CLAIM_HOLD,
    limits: Mapping[str, int] | None = None,
) -> list[Claim]:
    """Take up to `limit` due rows per channel (of those this worker can deliver) for `worker`;
    `limits` overrides it for a channel whose peer takes batches (CloudTrail Lake: 100).

    Per channel, so a backlog on a channel that is down cannot fill every batch and starve one
    that works.
    """
    repo = Outbox(ctx.session)
    until = ctx.now + hold
    claims = []
    for channel in sorted(channels):
        for row in repo.due(ctx.now, [channel], (limits or {}).get(channel, limit)):
            version = repo.claim(row, worker, until)
            if version is not None:
                claims.append(
                    Claim(row.id, row.channel, version, until, row.attempts, message(row))
                )
    return claims


def message(row: Notification) -> OutgoingMessage:
    return OutgoingMessage(
        row.id, row.event_key, row.recipient, row.subject, row.body, row.created_at
    )


def delivered(ctx: Context, claim: Claim, worker: str) -> bool:
    """Record a successful send; False if the claim was lost (the row is someone else's now)."""
    attempts = claim.attempts + 1
    # Claims are taken only on pending rows, so a claim's row is pending.
    status = transition(NotificationStatus.PENDING, NotificationAction.DELIVER)
    if not Outbox(ctx.session).settle(
        claim.id,
        claim.version,
        worker,
        status=status.value,
        delivered_at=ctx.now,
        attempts=attempts,
    ):
        return False
    # Evidence that the people the policy names were told, and when (not just that we meant to).
    ctx.record("notification.delivered", _subject(claim.id), _payload(claim, attempts))
    return True


def failed(ctx: Context, claim: Claim, worker: str, error: str) -> str | None:
    """Record a failed send: retry later with backoff, or give up. The new status, or None if
    the claim was lost."""
    attempts = claim.attempts + 1
    status = transition(NotificationStatus.PENDING, after_failure(attempts, MAX_ATTEMPTS)).value
    if not Outbox(ctx.session).settle(
        claim.id,
        claim.version,
        worker,
        status=status,
        attempts=attempts,
        last_error=error[:ERROR_LIMIT],
        next_attempt_at=ctx.now + retry_delay(attempts),
    ):
        return None
    if status == DEAD:
        ctx.record(
            "notification.dead",
            _subject(claim.id),
            {**_payload(claim, attempts), "error": error[:ERROR_LIMIT]},
        )
    return status


def release(ctx: Context, claim: Claim, worker: str) -> bool:
    """Hand back a row this worker claimed but did not try (its channel was down, or its claim
    was about to run out): no attempt is counted, and it is due again at once."""
    return Outbox(ctx.session).settle(claim.id, claim.version, worker)


def retry(ctx: Context, row_id: int) -> Notification:
    """An administrator's "send it again now": a dead letter gets a fresh set of attempts."""
    repo = Outbox(ctx.session)
    row = repo.get(row_id)
    if row.status == DELIVERED:
        raise BadInput(
            f"notification {row_id} was delivered at "
            f"{row.delivered_at:%Y-%m-%d %H:%M} UTC; nothing to retry"
        )
    if row.claimed_until is not None and row.claimed_until > ctx.now:
        raise BadInput(f"notification {row_id} is being sent by {row.claimed_by} right now")
    previous = row.status
    row.status = transition(NotificationStatus(row.status), NotificationAction.RETRY).value
    row.attempts, row.next_attempt_at = 0, ctx.now
    row.claimed_by = row.claimed_until = None
    repo.save(row)
    ctx.record(
        "notification.retried",
        _subject(row_id),
        {
            "event_key": row.event_key,
            "channel": row.channel,
            "recipient": row.recipient,
            "previous_status": previous,
            "last_error": row.last_error,
        },
    )
    return row


def _subject(row_id: int) -> str:
    return f"notification:{row_id}"


def _payload(claim: Claim, attempts: int) -> Mapping[str, Any]:
    return {
        "event_key": claim.message.event_key,
        "channel": claim.channel,
        "recipient": claim.message.recipient,
        "attempts": attempts,
    }
