"""The stored CloudTrail events as the live table holds them, grouped as the ledger records
their ingests: per source and ingest instant, how many and the digest of `(eventID, raw)`.

`ledger verify --state` compares these with the `trail.ingested` records (`ledger_replay`):
an event deleted or edited behind changegate's back (to hide a console change from CM-5) changes
its ingest's count or digest; one inserted makes a group the ledger does not know.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from changegate import ledger
from changegate.db.models import TrailEvent
from changegate.domain.trail.records import events_digest
from changegate.services.ledger_replay import UNPROVEN

BATCH = 2_000


def groups(session: Session, proven: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each ingest's stored events; the digest only where the ledger's record carries one
    (`proven`), so records written before it was kept are held to their count."""
    out: dict[str, dict[str, str]] = {}
    for group, stored in _grouped(session):
        digest = (
            events_digest(stored)
            if proven.get(group, {}).get("events_sha256", UNPROVEN) != UNPROVEN
            else UNPROVEN
        )
        out[group] = {"events": str(len(stored)), "events_sha256": digest}
    return out


def _grouped(session: Session) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    e = TrailEvent
    stmt = (
        select(e.source, e.ingested_at, e.event_id, e.raw)
        .order_by(e.source, e.ingested_at)
        .execution_options(yield_per=BATCH)
    )
    current, stored = "", list[tuple[str, str]]()
    for source, at, event_id, raw in session.execute(stmt):
        group = f"{source} at {ledger.stamp(at)}"
        if group != current and stored:
            yield current, stored
            stored = []
        current = group
        stored.append((event_id, raw))
    if stored:
        yield current, stored
