"""The demo's CAB meeting: the quarter's last one, which defers what still awaits the CAB.

Deferrals only: an approval there would change the demo's approvals, and with them the
statuses, inbox and audit findings the demo promises.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from changegate.db.cab import CabMeetings
from changegate.domain.cab import Outcome
from changegate.services import cab
from changegate.services.context import Context
from changegate.services.demo_data import emails

# (use case, actor, when): one transaction at a simulated time.
Run = Callable[[Callable[[Context], Any], str, datetime], Any]
TITLE = "Weekly CAB: end of quarter"
REASON = "Carried over: waiting for the load-test report before deciding."
MINUTES = (
    "Present: the CAB chair, the SRE lead and the ISO.\n"
    "Every open item is carried over to the first CAB of the next quarter; "
    "the requesters attach the load-test reports first."
)


def hold_meeting(run: Run, at: datetime) -> int:
    """Call, attend, defer every item, minute and close a meeting held at `at`, one minute per
    step. Returns the number of transactions."""
    chair, sre = emails("cab")[:2]
    iso = emails("iso")[0]
    meeting_id: int = run(lambda ctx: cab.create_meeting(ctx, at, TITLE).id, chair, at)
    steps: list[tuple[Callable[[Context], Any], str]] = [
        (lambda ctx: cab.attend(ctx, meeting_id), who) for who in (chair, sre, iso)
    ]
    steps += [
        (lambda ctx: _defer_all(ctx, meeting_id), chair),
        (lambda ctx: cab.edit_minutes(ctx, meeting_id, MINUTES), chair),
        (lambda ctx: cab.close_meeting(ctx, meeting_id), chair),
    ]
    for n, (step, who) in enumerate(steps, start=1):
        run(step, who, at + timedelta(minutes=n))
    return len(steps) + 1


def _defer_all(ctx: Context, meeting_id: int) -> None:
    repo = CabMeetings(ctx.session)
    for item in repo.items(repo.get(meeting_id)):
        cab.decide_item(ctx, meeting_id, item.change.key, Outcome.DEFERRED, item.version, REASON)
