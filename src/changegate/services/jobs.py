"""Periodic jobs' leases: which worker may run a job now, and when it last completed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from changegate.db.leases import Leases
from changegate.services.context import Context


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
