"""Read models of signed periodic reviews (CM-6, CFG-3, EXC-1 quarterly; annual ones)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from changegate.db.models import Review
from changegate.db.reviews import Reviews
from changegate.services.context import Context
from changegate.services.views.common import Instant, Out, Page, check_window


class ReviewOut(Out):
    """A signed review. `report` is the stored document exactly as signed; `sha256` is the
    digest of its canonical JSON, which the review's ledger record also carries."""

    id: int
    kind: str
    period: str | None
    author: str
    recorded_at: Instant
    sha256: str
    report: dict[str, Any]


class ReviewPreviewOut(Out):
    """What the ISO is about to sign: `report` as computed now and `sha256`, the SHA-256 of its
    canonical JSON (RFC 8785). Signing names that digest and is refused if the records give a
    different report by then. `signable` is false (and `why_not` says why) for a period that
    has not ended."""

    kind: str
    period: str
    sha256: str
    signable: bool
    why_not: str | None
    report: dict[str, Any]


def review(r: Review) -> ReviewOut:
    report: dict[str, Any] = json.loads(r.summary)
    period = report.get("quarter") or report.get("year")
    return ReviewOut(
        id=r.id,
        kind=r.kind,
        period=str(period) if period is not None else None,
        author=r.author.email,
        recorded_at=r.recorded_at,
        sha256=hashlib.sha256(r.summary.encode()).hexdigest(),
        report=report,
    )


def page(ctx: Context, kinds: list[str], limit: int, offset: int) -> Page[ReviewOut]:
    """Signed reviews, newest first; read by everyone who reads the ledger."""
    check_window(limit, offset)
    found = Reviews(ctx.session).page(kinds, limit, offset)
    return Page.of([review(r) for r in found.rows], found.total, limit, offset)


def show(ctx: Context, review_id: int) -> ReviewOut:
    return review(Reviews(ctx.session).get(review_id))
