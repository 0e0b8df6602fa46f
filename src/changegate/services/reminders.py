"""Notifications to people, through the outbox: a change awaiting CAB and ISO approval, and
reminders before an emergency's retroactive-approval and PIR deadlines (CM-3).

Each message links to the change's page on the web app (`Context.public_url`, from
CHANGEGATE_PUBLIC_URL). Each is queued once: its event key names the version or the deadline,
and the outbox never queues an event twice for one recipient, so a reminder job that runs every
tick, on any number of workers, sends each reminder once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Row

from changegate.db.models import Change
from changegate.db.reminders import Reminders
from changegate.domain.reminders import (
    Notice,
    Obligation,
    awaiting,
    due_reminder,
    link,
    reminder,
)
from changegate.domain.users import Role
from changegate.services.context import Context
from changegate.services.notifications import Message, enqueue_many, enqueue_to

# A reminder falls due at most this long before its deadline: `reminder_business_days`
# business days, plus the weekends and holidays between (a fortnight covers ten of them).
LOOKAHEAD_DAYS: Final = 14
APPROVERS: Final = (Role.CAB, Role.ISO)


def _message(notice: Notice) -> Message:
    return Message(notice.event_key, notice.subject, notice.body)


def awaiting_approval(ctx: Context, change: Change) -> int:
    """Ask the CAB and the ISO to decide on the change's current version (not the requester
    nor the commit authors: they may never approve it). Returns the rows queued."""
    notice = awaiting(
        change.key, change.version, change.title, change.risk, link(ctx.public_url, change.key)
    )
    skip = {change.requester.email, *change.commit_authors}
    return enqueue_many(ctx, [_message(notice)], APPROVERS, skip=skip)


def remind_due(ctx: Context) -> int:
    """The periodic job: queue every reminder that has fallen due and not been queued (the
    retroactive approval to the CAB and the ISO, the PIR to the requester). Returns the rows
    queued."""
    before = ctx.policy.emergency.reminder_business_days
    rows = Reminders(ctx.session).owed(ctx.now, ctx.now + timedelta(days=LOOKAHEAD_DAYS + before))
    queued = 0
    for row in rows:
        for what, notice in _notices(ctx, row, before):
            if what is Obligation.RETRO_APPROVAL:
                queued += enqueue_many(ctx, [_message(notice)], APPROVERS, skip={row.email})
            else:
                queued += enqueue_to(ctx, [_message(notice)], {row.email: "requester"})
    return queued


def _notices(ctx: Context, row: Row[Any], before: int) -> list[tuple[Obligation, Notice]]:
    url = link(ctx.public_url, row.key)
    owed = [
        (Obligation.RETRO_APPROVAL, row.retro_due_at, row.retro_approved_at),
        (Obligation.PIR, row.pir_due_at, row.pir_recorded_at),
    ]
    out: list[tuple[Obligation, Notice]] = []
    for what, deadline, met in owed:
        if deadline is None or met is not None:
            continue
        cal = ctx.policy.calendar(deadline)
        if due_reminder(cal, deadline, before, ctx.now):
            out.append((what, reminder(row.key, row.title, what, deadline, cal.tz, url)))
    return out
