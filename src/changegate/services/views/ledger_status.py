"""The web app's ledger page: the head, the last recorded verifications, and on demand a
verification of the whole chain (which reads every record, so it is asked for, not shown on
every visit)."""

from __future__ import annotations

from changegate.db.change_pages import ChangePages
from changegate.services.context import Context
from changegate.services.state_checks import STATE_VERIFIED
from changegate.services.views.common import Instant, Out
from changegate.services.views.ledger import VerificationOut, verified

SHOWN = 20


class RecordedCheckOut(Out):
    seq: int
    at: Instant
    actor: str


class LedgerStatusOut(Out):
    head_seq: int
    head_hash: str
    recorded_checks: list[RecordedCheckOut]  # `ledger.state_verified` records, newest first
    verification: VerificationOut | None  # only when asked for


def status(ctx: Context, verify: bool) -> LedgerStatusOut:
    pages = ChangePages(ctx.session)
    seq, digest = pages.head()
    return LedgerStatusOut(
        head_seq=seq,
        head_hash=digest,
        recorded_checks=[
            RecordedCheckOut(seq=r.seq, at=r.at, actor=r.actor)
            for r in pages.latest(STATE_VERIFIED, SHOWN)
        ],
        verification=verified(ctx.session) if verify else None,
    )
