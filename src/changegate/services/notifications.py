"""Queue notifications in the outbox, in the transaction of the event that causes them.

Delivery happens later (the worker), with retries, so a notification is never lost when the mail
server is down or the process dies between the event and the send. With no channel configured
the message is delivered to changegate's own inbox at once: it is on record, and the ISO and HR
see it in `finding list`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from changegate.db.outbox import Outbox
from changegate.db.users import Users
from changegate.domain.notifications import EMAIL, INBOX, SLACK
from changegate.domain.users import Role
from changegate.domain.wording import clip
from changegate.services.context import Context

# notifications.subject's width: a subject made of a prefix and a title is cut, on purpose.
SUBJECT_WIDTH = 300


@dataclass(frozen=True)
class Message:
    event_key: str
    subject: str
    body: str


def enqueue(ctx: Context, event_key: str, subject: str, body: str, roles: Iterable[Role]) -> int:
    return enqueue_many(ctx, [Message(event_key, subject, body)], roles)


def enqueue_many(
    ctx: Context, messages: Sequence[Message], roles: Iterable[Role], skip: Collection[str] = ()
) -> int:
    """One row per person holding a role (email or inbox), plus one Slack post if configured;
    people in `skip` (emails) are left out. Returns how many rows were queued.

    An event already queued for a recipient is not queued again, so re-raising is harmless.
    """
    # One message per person, however many of the roles they hold; the row names them all,
    # so "did the ISO and HR hear of it" (VIO-1) can be answered from it.
    held: dict[str, list[str]] = {}
    for email, held_role in Users(ctx.session).holders(r.value for r in roles):
        if email not in skip:
            held.setdefault(email, []).append(held_role)
    return _queue(ctx, messages, {email: ",".join(sorted(rs)) for email, rs in held.items()})


def enqueue_to(ctx: Context, messages: Sequence[Message], people: Mapping[str, str]) -> int:
    """As `enqueue_many`, to named people: email -> why them (e.g. "requester")."""
    return _queue(ctx, messages, people)


def _queue(ctx: Context, messages: Sequence[Message], people: Mapping[str, str | None]) -> int:
    repo = Outbox(ctx.session)
    person_channel = EMAIL if EMAIL in ctx.channels else INBOX
    targets: list[tuple[str, str, str | None]] = [
        (person_channel, email, why) for email, why in sorted(people.items())
    ]
    if SLACK in ctx.channels:
        targets.append((SLACK, "slack", None))
    seen = repo.queued([m.event_key for m in messages])
    rows = [
        _row(ctx, message, channel, recipient, role)
        for message in messages
        for channel, recipient, role in targets
        if (message.event_key, channel, recipient) not in seen
    ]
    repo.add_many(rows)
    return len(rows)


def _row(
    ctx: Context, message: Message, channel: str, recipient: str, role: str | None
) -> dict[str, object]:
    delivered = ctx.now if channel == INBOX else None
    return {
        "event_key": message.event_key,
        "channel": channel,
        "recipient": recipient,
        "recipient_role": role,
        "subject": clip(message.subject, SUBJECT_WIDTH),
        "body": message.body,
        "status": "delivered" if delivered else "pending",
        "attempts": 0,
        "created_at": ctx.now,
        "next_attempt_at": ctx.now,
        "claimed_by": None,
        "claimed_until": None,
        "delivered_at": delivered,
        "last_error": None,
        "lock_version": 1,
    }
