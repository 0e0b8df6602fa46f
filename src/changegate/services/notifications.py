"""Queue notifications in the outbox, in the transaction of the event that causes them.

Delivery happens later (the worker), with retries, so a notification is never lost when the mail
server is down or the process dies between the event and the send. With no channel configured
the message is delivered to changegate's own inbox at once: it is on record, and the ISO and HR
see it in `finding list`.
"""

from __future__ import annotations

from collections.abc import Iterable

from changegate.db.audit import Notification
from changegate.db.notifications import Notifications
from changegate.domain.users import Role
from changegate.services.context import Context

EMAIL, SLACK, INBOX = "email", "slack", "inbox"


def enqueue(ctx: Context, event_key: str, subject: str, body: str,
            roles: Iterable[Role]) -> list[Notification]:
    """One row per person holding a role (email or inbox), plus one Slack post if configured."""
    repo = Notifications(ctx.session)
    people = repo.holders(r.value for r in roles)
    person_channel = EMAIL if EMAIL in ctx.channels else INBOX
    targets: list[tuple[str, str, str | None]] = [
        (person_channel, email, role) for email, role in people]
    if SLACK in ctx.channels:
        targets.append((SLACK, "slack", None))
    queued = []
    for channel, recipient, role in targets:
        if repo.exists(event_key, channel, recipient):
            continue
        delivered = ctx.now if channel == INBOX else None
        row = Notification(
            event_key=event_key, channel=channel, recipient=recipient, recipient_role=role,
            subject=subject, body=body, status="delivered" if delivered else "pending",
            attempts=0, created_at=ctx.now, next_attempt_at=ctx.now, delivered_at=delivered)
        repo.add(row)
        queued.append(row)
    ctx.session.flush()
    return queued
