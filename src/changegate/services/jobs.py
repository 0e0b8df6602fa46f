"""Periodic jobs: what every worker runs, and the leases that keep two from running one job.

To add a periodic job, add a `Job` to `registered_jobs()`. The lease row named after it is
created on first use if no migration seeded it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy.exc import IntegrityError

from changegate.db.leases import Leases
from changegate.services import audits, reminders, waiver_reviews
from changegate.services.context import Context

AUDIT_EVERY: Final = timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    """A periodic job. `every`: at most this often across all workers (None: every tick).
    `hold`: the lease's length, longer than the job can take: if it ran out mid-run another
    worker could start the same job."""

    name: str
    run: Callable[[Context], object]
    every: timedelta | None = None
    hold: timedelta = timedelta(minutes=15)


def registered_jobs() -> list[Job]:
    """The periodic jobs every worker runs each tick, in this order, before the outbox."""
    return [
        # EXC-1: an active waiver past its end expires and CAB and the ISO are asked to review.
        # Cheap (one indexed query when nothing is due), so every tick.
        Job("waiver-expiry", waiver_reviews.expire_due),
        # Re-performs every rule over this quarter and the last: hourly finds a violation the
        # same working day without re-reading two quarters of records every 30 seconds.
        Job("audit", audits.run_due, every=AUDIT_EVERY, hold=timedelta(hours=1)),
        # CM-3: remind who owes an emergency's retroactive approval or PIR before it is due.
        # One indexed query when nothing is near its deadline, so every tick; sent once each.
        Job("reminders", reminders.remind_due),
    ]


def take_lease(
    ctx: Context, name: str, holder: str, hold: timedelta, every: timedelta | None = None
) -> bool:
    """Hold the lease `name` for `hold` if it is free (or expired, or ours) and, given `every`,
    the job has not completed within that period. False: leave the job to its holder."""
    repo = Leases(ctx.session)
    if not repo.exists(name):
        # A job registered before a migration seeded its row: create it rather than never run.
        try:
            with ctx.session.begin_nested():
                repo.add(name)
        except IntegrityError:
            pass  # another worker created it a moment ago; the compare-and-set decides
    ran_before = ctx.now - every if every else None
    return repo.take(name, holder, ctx.now, ctx.now + hold, ran_before)


def give_back(ctx: Context, name: str, holder: str, completed: bool) -> bool:
    """Free the lease; a completed run is remembered (last_run_at) so `every` can count from it.
    False if `holder` no longer had it (it expired mid-run and someone else took it)."""
    return Leases(ctx.session).give_back(name, holder, ctx.now if completed else None)
