"""The installation's own facts: when changegate was adopted, which bounds what is audited.

Controls can only be expected from the day they exist: an installation adopted on 2026-11-30
raises nothing for events or quarters before it (`audits.effective_from` in the policy file
overrides the recorded date).
"""

from __future__ import annotations

from datetime import date

from changegate.db.installation import Installation
from changegate.services.context import Context

ADOPTED_ON = "adopted_on"


def adopted_on(ctx: Context) -> date | None:
    value = Installation(ctx.session).fact(ADOPTED_ON)
    return date.fromisoformat(value) if value else None


def effective_from(ctx: Context) -> date | None:
    """The first day audited: the policy's `audits.effective_from`, else the adoption date."""
    return ctx.policy.audits.effective_from or adopted_on(ctx)


def adopt(ctx: Context, on: date | None = None) -> date:
    """Record the adoption date once; later calls return the recorded one. Without `on`: the
    day of the first ledger record (an installation upgraded to this version), else today,
    both in the policy's time zone."""
    known = adopted_on(ctx)
    if known is not None:
        return known
    repo = Installation(ctx.session)
    calendar = ctx.policy.calendar(ctx.now)
    first = repo.first_ledger_record_at()
    day = on or calendar.local_day(first or ctx.now)
    repo.record(ADOPTED_ON, day.isoformat(), ctx.now)
    ctx.record("installation.adopted", "installation", {"adopted_on": day.isoformat()})
    return day
