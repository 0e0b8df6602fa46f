"""Queries about decisions as the ledger recorded them (AUTH-1 reads who was not signed in)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from changegate.db.base import Repository
from changegate.db.models import LedgerRecord
from changegate.domain.audit.facts import DecisionFact
from changegate.domain.identity import AUTHENTICATED, CHANGE_DECISIONS, DECISIONS

# How the marker reads in a canonical (RFC 8785) payload: a quote inside a JSON string is
# always escaped, so this text can only be the key itself, never a comment's words.
_MARKER = f'"{AUTHENTICATED}":false'


class Decisions(Repository):
    def unauthenticated(self, start: datetime, end: datetime) -> list[DecisionFact]:
        """Decisions recorded in [start, end) whose payload says they were not authenticated."""
        stmt = (
            select(
                LedgerRecord.seq,
                LedgerRecord.action,
                LedgerRecord.subject,
                LedgerRecord.actor,
                LedgerRecord.at,
                LedgerRecord.payload,
            )
            .where(
                LedgerRecord.at >= start,
                LedgerRecord.at < end,
                LedgerRecord.action.in_(sorted(DECISIONS | CHANGE_DECISIONS)),
                LedgerRecord.payload.contains(_MARKER),
            )
            .order_by(LedgerRecord.seq)
        )
        return [
            DecisionFact(seq, action, subject, actor, at)
            for seq, action, subject, actor, at, payload in self.session.execute(stmt)
            if json.loads(payload).get(AUTHENTICATED) is False
        ]
