"""Read model of the notification outbox: what was sent, what waits, what gave up."""

from __future__ import annotations

from changegate.db.models import Notification
from changegate.db.outbox import Outbox
from changegate.domain.notifications import NotificationStatus
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window


class NotificationRowOut(Out):
    id: int
    status: str
    channel: str
    recipient: str
    role: str | None
    event_key: str
    subject: str
    attempts: int
    created_at: Instant
    next_attempt_at: Instant
    delivered_at: Instant | None
    claimed_by: str | None
    claimed_until: Instant | None
    last_error: str | None


def row(n: Notification) -> NotificationRowOut:
    return NotificationRowOut(
        id=n.id,
        status=n.status,
        channel=n.channel,
        recipient=n.recipient,
        role=n.recipient_role,
        event_key=n.event_key,
        subject=n.subject,
        attempts=n.attempts,
        created_at=n.created_at,
        next_attempt_at=n.next_attempt_at,
        delivered_at=n.delivered_at,
        claimed_by=n.claimed_by,
        claimed_until=n.claimed_until,
        last_error=n.last_error,
    )


def page(
    ctx: Context, status: NotificationStatus | None, limit: int, offset: int
) -> Page[NotificationRowOut]:
    check_window(limit, offset)
    found = Outbox(ctx.session).page(status.value if status else None, limit, offset)
    return Page.of([row(n) for n in found.rows], found.total, limit, offset)
