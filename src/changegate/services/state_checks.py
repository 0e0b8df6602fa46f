"""A passing `ledger verify --state`, kept in the ledger; and whether one covers an audit.

The audit's rules read the live tables. Their findings are only as good as those tables, so an
audit says when no recorded state check, at or after the instant it reads the records as of
(the period's end, or now for a period still running), proved the tables agree with the
ledger. Recording is an explicit write (`ledger verify --state --record`, or
`POST /api/v1/ledger/state-verifications`): a read (GET) never writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import LedgerRecord
from changegate.domain.users import Role
from changegate.services import ledger_state
from changegate.services.context import Context
from changegate.services.views import ledger as views
from changegate.services.views.ledger import VerificationOut

STATE_VERIFIED = "ledger.state_verified"
# Who may put a passing check on the record: those who run the audit.
RECORDERS = (Role.ISO, Role.ADMIN)


def record(ctx: Context) -> VerificationOut:
    """Verify the chain and the live state; when both pass, append `ledger.state_verified`
    with the head checked (seq, hash), the record count and the tables compared.
    `recorded` says whether it was appended: a failing check records nothing. Forbidden
    unless the actor is the ISO or an admin."""
    ctx.user_with(*RECORDERS)
    out = views.verified(ctx.session, state=True)
    if not out.ok:
        return out.model_copy(update={"recorded": False})
    ctx.record(
        STATE_VERIFIED,
        "ledger",
        {
            "head_seq": out.head_seq,
            "head_hash": out.head_hash,
            "count": out.count,
            "tables": list(ledger_state.CHECKED),
        },
    )
    return out.model_copy(update={"recorded": True})


def covered(session: Session, as_of: datetime) -> bool:
    """Whether a passing state check was recorded at or after `as_of`."""
    cols = LedgerRecord.__table__.c
    stmt = (
        select(cols.seq)
        .where(cols.action == STATE_VERIFIED, cols.at >= as_of)
        .order_by(cols.seq)
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def warnings(session: Session, as_of: datetime) -> list[str]:
    """What an audit reading the records as of `as_of` warns about its inputs: [] or one line."""
    if covered(session, as_of):
        return []
    return [
        "ledger state not verified: no passing `changegate ledger verify --state --record` "
        f"at or after {ledger.stamp(as_of)}, so the tables this audit read were not proven "
        "to match the ledger"
    ]
