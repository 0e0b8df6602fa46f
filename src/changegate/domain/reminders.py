"""Notifications to people: a change awaiting CAB and ISO approval, and reminders before an
emergency's deadlines (CM-3: retroactive approval and PIR within N business days).

A reminder falls due at the start (local midnight) of the business day that lies
`before` business days ahead of the deadline's last day: with the default of one, a PIR due at
the end of Thursday is reminded from Wednesday 00:00 in the policy's time zone, and with a
holiday on Wednesday from Tuesday. It is sent while `remind_at <= now < deadline` (past the
deadline the audit reports it instead), and once: its event key names the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from changegate.domain.calendar import BusinessCalendar, require_aware


class Obligation(StrEnum):
    RETRO_APPROVAL = "retro"
    PIR = "pir"


WHAT = {
    Obligation.RETRO_APPROVAL: "retroactive approval (CAB and ISO)",
    Obligation.PIR: "post-implementation review",
}
SHORT = {Obligation.RETRO_APPROVAL: "retroactive approval", Obligation.PIR: "PIR"}


@dataclass(frozen=True)
class Notice:
    """One message to people: `event_key` makes it once-only in the outbox."""

    event_key: str
    subject: str
    body: str


def business_days_before(cal: BusinessCalendar, day: date, n: int) -> date:
    """The business day `n` business days before `day` (`day` itself when n is 0, or the
    business day at or before it when `day` is not one)."""
    found = day
    while not cal.is_business_day(found):
        found -= timedelta(days=1)
    for _ in range(n):
        found -= timedelta(days=1)
        while not cal.is_business_day(found):
            found -= timedelta(days=1)
    return found


def remind_at(cal: BusinessCalendar, deadline: datetime, before: int) -> datetime:
    """When a reminder of `deadline` (an exclusive instant: the end of its last day) falls
    due: local midnight starting the business day `before` business days ahead of the last
    day. ValueError for a negative `before`."""
    if before < 0:
        raise ValueError("reminders come before a deadline, not after")
    last_day = cal.local_day(require_aware(deadline) - timedelta(microseconds=1))
    day = business_days_before(cal, last_day, before)
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(cal.tz))


def due_reminder(cal: BusinessCalendar, deadline: datetime, before: int, now: datetime) -> bool:
    return remind_at(cal, deadline, before) <= now < deadline


def link(base_url: str | None, key: str) -> str:
    """The change's page on the web app; a path alone when no public URL is configured."""
    return f"{(base_url or '').rstrip('/')}/changes/{key}"


def awaiting(key: str, version: int, title: str, risk: str, url: str) -> Notice:
    """CAB members and the ISO are asked to decide on `version` of a submitted change."""
    return Notice(
        f"change.awaiting_approval:{key}:v{version}",
        f"{key} v{version} awaits your approval: {title}",
        f"{key} version {version} ({risk} risk) was submitted and awaits approval by the CAB "
        f"and the ISO (CM-2).\n\n{title}\n\nRead it and decide: {url}\n",
    )


def reminder(
    key: str, title: str, what: Obligation, deadline: datetime, tz: str, url: str
) -> Notice:
    """A reminder that `what` for emergency `key` is due by `deadline` (shown in `tz`)."""
    last_day = (deadline - timedelta(microseconds=1)).astimezone(ZoneInfo(tz))
    due = f"end of {last_day:%a %Y-%m-%d} ({tz})"
    return Notice(
        f"reminder.{what.value}:{key}:{deadline.isoformat()}",
        f"Reminder: {key} {SHORT[what]} due by {due}",
        f"Emergency change {key} ({title}) still needs its {WHAT[what]}, due by {due} "
        f"(CM-3).\n\nOpen it: {url}\n",
    )
