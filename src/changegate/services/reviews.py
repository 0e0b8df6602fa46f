"""The ISO's signed quarterly review of change-management metrics (CM-6), and what every signed
periodic review shares: the sign-off record, the digest a preview pins, the printable report.

Preview, then sign: the ISO reads a report and its SHA-256 (`preview_quarter`), and signs by
naming that digest (`review_quarter(..., sha256=)`); if the records moved in between, the report
computed at signing hashes differently and the signature is refused rather than attesting data
the ISO never saw.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from changegate import ledger
from changegate.db.changes import Changes
from changegate.db.models import Review, User
from changegate.domain.errors import BadInput, Refused
from changegate.domain.periods import quarter_bounds, quarter_of
from changegate.domain.users import Role
from changegate.services import metrics as quarter_metrics
from changegate.services.context import Context
from changegate.services.review_documents import recorded_between, report_document
from changegate.services.views.reviews import ReviewPreviewOut

QUARTERLY_METRICS = "quarterly_metrics"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")

__all__ = ["recorded_between", "report_document"]  # for the evidence package


def digest(report: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the report's canonical JSON (RFC 8785): what a preview shows and a
    signature names."""
    return hashlib.sha256(ledger.canonical(dict(report)).encode()).hexdigest()


def pinned(sha256: str) -> str:
    """A digest as typed (hex, either case); BadInput for anything but 64 hex digits."""
    cleaned = sha256.strip().lower()
    if not SHA256_HEX.fullmatch(cleaned):
        raise BadInput(f"not a SHA-256: {sha256[:80]!r} (expected 64 hex digits from --preview)")
    return cleaned


def check_pinned(control: str, report: Mapping[str, Any], sha256: str) -> str:
    """The report's digest, if it is the one the ISO previewed; Refused otherwise."""
    now = digest(report)
    if now != pinned(sha256):
        raise Refused(
            control,
            f"the report changed since it was previewed (sha256 {sha256[:16]}..., now "
            f"{now[:16]}...): preview it again and sign what you read",
        )
    return now


def metrics(ctx: Context, quarter: str) -> dict[str, Any]:
    """CM-6: the report the ISO signs for `quarter`, the JSON of the same computation the
    dashboard shows (`services.metrics.quarter`)."""
    return quarter_metrics.quarter(ctx, quarter).model_dump(mode="json")


def preview_quarter(ctx: Context, quarter: str) -> ReviewPreviewOut:
    """CM-6: the metrics the ISO would sign for `quarter` now, and their SHA-256; a quarter
    not yet over may be previewed, not signed (`signable` false, and why)."""
    start, end = quarter_bounds(quarter)
    name = quarter_of(start)
    report = metrics(ctx, name)
    why = None if ctx.now >= end else f"{name} has not ended yet; review it after {end.date()}"
    return ReviewPreviewOut(
        kind=QUARTERLY_METRICS,
        period=name,
        sha256=digest(report),
        signable=why is None,
        why_not=why,
        report=report,
    )


def ended_quarter(ctx: Context, quarter: str, control: str) -> tuple[str, datetime, datetime]:
    """(name, start, end) of a quarter that has ended: a quarter is reviewed once it is over."""
    start, end = quarter_bounds(quarter)
    name = quarter_of(start)
    if ctx.now < end:
        raise Refused(control, f"{name} has not ended yet; review it after {end.date()}")
    return name, start, end


def sign(
    ctx: Context,
    kind: str,
    author: User,
    quarter: str,
    report: Mapping[str, Any],
    action: str,
    recorded: Mapping[str, Any] | None = None,
    subject: str | None = None,
) -> Review:
    """Store a signed periodic review and its ledger record, which carries the SHA-256 of the
    stored report so a later edit of the review shows; `recorded` is what else the record
    says (by default the whole report); `subject` is the ledger subject (by default
    `quarter:<quarter>`)."""
    summary = ledger.canonical(dict(report))
    review = Review(
        kind=kind, change_id=None, author_id=author.id, summary=summary, recorded_at=ctx.now
    )
    Changes(ctx.session).add_review(review)
    ctx.record(
        action,
        subject or f"quarter:{quarter}",
        dict(report if recorded is None else recorded)
        | {"review_id": review.id, "sha256": hashlib.sha256(summary.encode()).hexdigest()},
    )
    return review


def review_quarter(
    ctx: Context, quarter: str, notes: str = "", sha256: str | None = None
) -> Review:
    """CM-6: the ISO's signed review of a quarter's change-management metrics. With `sha256`
    (from `preview_quarter`), Refused unless the metrics still hash to it; the stored report is
    the metrics plus `notes`, and the ledger record carries both digests."""
    wanted = None if sha256 is None else pinned(sha256)
    iso = ctx.user_with(Role.ISO)
    name, _, _ = ended_quarter(ctx, quarter, "CM-6")
    data = metrics(ctx, name)
    signed = digest(data) if wanted is None else check_pinned("CM-6", data, wanted)
    report = data | {"notes": notes.strip()}
    recorded = report | {"report_sha256": signed}
    return sign(ctx, QUARTERLY_METRICS, iso, name, report, "review.quarterly_metrics", recorded)
