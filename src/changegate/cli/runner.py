"""The worker's tick: each periodic job under its lease, then the notification outbox.

This is an entry point: it owns the transactions (one per step, committed before anything is
sent) and reads the clock, once per step, through the `clock` it is given (App.now in
production, a hand-moved one in tests).

The periodic jobs are registered next to the use cases (`services.jobs.registered_jobs`); each
`run` gets one transaction (a Context) while this worker holds the lease row named `name`, so no
two workers run it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from changegate.bootstrap import App
from changegate.db.outbox import DEAD
from changegate.integrations.ports import BatchNotifier, IntegrationError, Notifier
from changegate.services import jobs, outbox
from changegate.services.jobs import Job
from changegate.services.outbox import Claim

log = logging.getLogger("changegate.worker")
Clock = Callable[[], datetime]
# A row whose claim runs out sooner than this is handed back unsent: a send that outlived the
# claim would race the worker that takes the row over.
CLAIM_MARGIN: Final = timedelta(seconds=60)
MAX_BATCHES: Final = 50


@dataclass
class Delivery:
    """What one pass over the outbox did."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    handed_back: int = 0
    lost: int = 0  # settled by nobody: our claim ran out and another worker took the row
    down: set[str] = field(default_factory=set)

    @property
    def claimed(self) -> int:
        return self.delivered + self.retrying + self.dead + self.handed_back + self.lost

    def add(self, other: Delivery) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.dead += other.dead
        self.handed_back += other.handed_back
        self.lost += other.lost
        self.down |= other.down

    def __str__(self) -> str:
        counts = (
            f"{self.delivered} delivered, {self.retrying} to retry, {self.dead} dead, "
            f"{self.handed_back} handed back"
        )
        return counts + (f", {self.lost} lost to another worker" if self.lost else "")


def deliver(
    app: App,
    notifiers: Mapping[str, Notifier],
    worker: str,
    clock: Clock,
    limit: int = outbox.BATCH,
) -> Delivery:
    """Claim due rows (committed), send each outside any transaction, settle each in its own."""
    tally = Delivery()
    if not notifiers:
        return tally
    batches = {c: n for c, n in notifiers.items() if isinstance(n, BatchNotifier)}
    sizes = {channel: notifier.batch for channel, notifier in batches.items()}
    claims = app.run(
        lambda ctx: outbox.claim(ctx, worker, list(notifiers), limit, limits=sizes), at=clock()
    )
    for claim in claims:
        if claim.channel not in batches:
            _attempt(app, notifiers[claim.channel], worker, clock, claim, tally)
    for channel, notifier in batches.items():
        held = [claim for claim in claims if claim.channel == channel]
        if held:
            _attempt_batch(app, notifier, worker, clock, held, tally)
    return tally


def drain(
    app: App,
    notifiers: Mapping[str, Notifier],
    worker: str,
    clock: Clock,
    limit: int = outbox.BATCH,
    batches: int = MAX_BATCHES,
) -> Delivery:
    """Batch after batch until nothing is due on the channels that answer, so one tick
    (`worker --once` from cron) clears a backlog; bounded, so a flood cannot starve the jobs."""
    total = Delivery()
    live = dict(notifiers)
    for _ in range(batches):
        tally = deliver(app, live, worker, clock, limit)
        total.add(tally)
        for channel in tally.down:
            live.pop(channel, None)
        if not tally.claimed or not live:
            break
    return total


def _attempt(
    app: App, notifier: Notifier, worker: str, clock: Clock, claim: Claim, tally: Delivery
) -> None:
    if claim.channel in tally.down or clock() >= claim.until - CLAIM_MARGIN:
        # The channel did not answer a moment ago: trying the rest of the batch would only wait
        # out a timeout per row and count attempts the peer never saw. Or the claim is about
        # to run out: a send now could race the worker that takes the row over.
        app.run(lambda ctx: outbox.release(ctx, claim, worker), at=clock())
        tally.handed_back += 1
        return
    try:
        notifier.send(claim.message)
    except Exception as exc:  # a notifier bug must not wedge the row: record it and back off
        error = str(exc) if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, IntegrationError) or exc.status is None:
            tally.down.add(claim.channel)
        status = app.run(lambda ctx: outbox.failed(ctx, claim, worker, error), at=clock())
        log.warning(
            "notification %d (%s to %s) failed, attempt %d: %s",
            claim.id,
            claim.channel,
            claim.message.recipient,
            claim.attempts + 1,
            error,
        )
        _count(tally, status)
        return
    if app.run(lambda ctx: outbox.delivered(ctx, claim, worker), at=clock()):
        tally.delivered += 1
    else:
        tally.lost += 1


def _attempt_batch(
    app: App,
    notifier: BatchNotifier,
    worker: str,
    clock: Clock,
    claims: Sequence[Claim],
    tally: Delivery,
) -> None:
    """One call for the batch; each row settled by the peer's answer for it, so a partial
    failure retries only the rows the peer refused."""
    live = [c for c in claims if clock() < c.until - CLAIM_MARGIN]
    for claim in claims:
        if claim not in live:
            _settle(app, worker, clock, claim, tally, None, release=True)
    if not live:
        return
    try:
        refused = notifier.send_many([claim.message for claim in live])
    except Exception as exc:  # as in _attempt: record it against every row and back off
        error = str(exc) if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, IntegrationError) or exc.status is None:
            tally.down.add(live[0].channel)
        refused = {claim.id: error for claim in live}
    for claim in live:
        _settle(app, worker, clock, claim, tally, refused.get(claim.id))
    if refused:
        first = next(iter(refused.values()))
        log.warning("%s: %d of %d refused: %s", live[0].channel, len(refused), len(live), first)


def _settle(
    app: App,
    worker: str,
    clock: Clock,
    claim: Claim,
    tally: Delivery,
    error: str | None,
    release: bool = False,
) -> None:
    if release:
        app.run(lambda ctx: outbox.release(ctx, claim, worker), at=clock())
        tally.handed_back += 1
    elif error is not None:
        _count(tally, app.run(lambda ctx: outbox.failed(ctx, claim, worker, error), at=clock()))
    elif app.run(lambda ctx: outbox.delivered(ctx, claim, worker), at=clock()):
        tally.delivered += 1
    else:
        tally.lost += 1


def _count(tally: Delivery, status: str | None) -> None:
    if status is None:
        tally.lost += 1
    elif status == DEAD:
        tally.dead += 1
    else:
        tally.retrying += 1


def run_leased(app: App, job: Job, worker: str, clock: Clock) -> bool:
    """Run `job` if this worker gets its lease; False if another worker holds it (or it ran
    within `every`). The lease is given back however the job ends."""
    if not app.run(
        lambda ctx: jobs.take_lease(ctx, job.name, worker, job.hold, job.every), at=clock()
    ):
        return False
    completed = False
    try:
        result = app.run(job.run, at=clock())
        completed = True
    finally:
        if not app.run(lambda ctx: jobs.give_back(ctx, job.name, worker, completed), at=clock()):
            log.warning(
                "job %s outlived its %s lease; another worker may have run it too",
                job.name,
                job.hold,
            )
    if isinstance(result, int | list) and result:  # a count, or the runs it made
        log.info("job %s: %d done", job.name, result if isinstance(result, int) else len(result))
    return True


def tick(
    app: App, notifiers: Mapping[str, Notifier], registry: Sequence[Job], worker: str, clock: Clock
) -> bool:
    """One pass: every job, then the outbox (so what a job queued goes out in the same tick,
    which `worker --once` from cron relies on). A failing step is logged as one line and the
    others still run; False if any step failed."""
    ok = True
    steps: list[tuple[str, Callable[[], object]]] = [
        (job.name, _bind(run_leased, app, job, worker, clock)) for job in registry
    ]
    steps.append(("outbox", lambda: _log_delivery(drain(app, notifiers, worker, clock))))
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # one job's failure must not stop the others or the worker
            detail = " ".join(str(exc).split())[:300]
            log.error("job %s failed: %s: %s", name, type(exc).__name__, detail)
            ok = False
    return ok


def _bind(
    fn: Callable[[App, Job, str, Clock], bool], app: App, job: Job, worker: str, clock: Clock
) -> Callable[[], object]:
    return lambda: fn(app, job, worker, clock)


def _log_delivery(tally: Delivery) -> Delivery:
    if tally.delivered or tally.retrying or tally.dead or tally.lost:
        log.info("outbox: %s", tally)
    return tally
