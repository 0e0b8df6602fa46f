"""The ISO's signed quarterly review of change-management metrics (CM-6)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from changegate import ledger
from changegate.db.audit_records import Metrics
from changegate.db.changes import Changes
from changegate.db.models import Change, Review, User
from changegate.domain.errors import Refused
from changegate.domain.periods import quarter_bounds, quarter_of
from changegate.domain.users import Role
from changegate.services.context import Context

QUARTERLY_METRICS = "quarterly_metrics"


def metrics(ctx: Context, quarter: str) -> dict[str, Any]:
    start, end = quarter_bounds(quarter)
    m = Metrics(ctx.session)
    emergencies = m.emergencies(start, end)
    decisions = m.gate_decisions(start, end)
    return {
        "quarter": quarter.upper(),
        "changes_by_type": m.changes_by(Change.change_type, start, end),
        "changes_by_status": m.changes_by(Change.status, start, end),
        "deployments_by_environment": m.deployments_by_environment(start, end),
        "gate": {
            "allowed": decisions.get("True", 0) + decisions.get("1", 0),
            "denied": decisions.get("False", 0) + decisions.get("0", 0),
        },
        "emergencies": {
            "implemented": len(emergencies),
            "pir_on_time": sum(
                1
                for e in emergencies
                if e.pir_recorded_at and e.pir_due_at and e.pir_recorded_at <= e.pir_due_at
            ),
            "retro_approval_on_time": sum(
                1
                for e in emergencies
                if e.retro_approved_at and e.retro_due_at and e.retro_approved_at <= e.retro_due_at
            ),
        },
        "findings_by_control": m.findings_by_control(start, end),
    }


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
) -> Review:
    """Store a signed periodic review and its ledger record, which carries the SHA-256 of the
    stored report so a later edit of the review shows; `recorded` is what else the record
    says (by default the whole report)."""
    summary = ledger.canonical(dict(report))
    review = Review(
        kind=kind, change_id=None, author_id=author.id, summary=summary, recorded_at=ctx.now
    )
    Changes(ctx.session).add_review(review)
    ctx.record(
        action,
        f"quarter:{quarter}",
        dict(report if recorded is None else recorded)
        | {"review_id": review.id, "sha256": hashlib.sha256(summary.encode()).hexdigest()},
    )
    return review


def review_quarter(ctx: Context, quarter: str, notes: str = "") -> Review:
    """CM-6: the ISO's signed review of a quarter's change-management metrics."""
    iso = ctx.user_with(Role.ISO)
    name, _, _ = ended_quarter(ctx, quarter, "CM-6")
    report = metrics(ctx, name) | {"notes": notes.strip()}
    return sign(ctx, QUARTERLY_METRICS, iso, name, report, "review.quarterly_metrics")
