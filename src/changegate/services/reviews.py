"""The ISO's signed quarterly review of change-management metrics (CM-6)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from changegate.db.audit_records import Metrics
from changegate.db.changes import Changes
from changegate.db.models import Change, Review
from changegate.domain.errors import Refused
from changegate.domain.periods import quarter_bounds
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
        "gate": {"allowed": decisions.get("True", 0) + decisions.get("1", 0),
                 "denied": decisions.get("False", 0) + decisions.get("0", 0)},
        "emergencies": {
            "implemented": len(emergencies),
            "pir_on_time": sum(1 for e in emergencies if e.pir_recorded_at and e.pir_due_at
                               and e.pir_recorded_at <= e.pir_due_at),
            "retro_approval_on_time": sum(
                1 for e in emergencies if e.retro_approved_at and e.retro_due_at
                and e.retro_approved_at <= e.retro_due_at)},
        "findings_by_control": m.findings_by_control(start, end)}


def review_quarter(ctx: Context, quarter: str, notes: str = "") -> Review:
    iso = ctx.user_with(Role.ISO)
    _, end = quarter_bounds(quarter)
    if ctx.now < end:
        raise Refused("CM-6", f"{quarter} has not ended yet; review it after {end.date()}")
    report = metrics(ctx, quarter) | {"notes": notes.strip()}
    summary = json.dumps(report, sort_keys=True)
    review = Review(kind=QUARTERLY_METRICS, change_id=None, author_id=iso.id, summary=summary,
                    recorded_at=ctx.now)
    Changes(ctx.session).add_review(review)
    ctx.record("review.quarterly_metrics", f"quarter:{quarter.upper()}", report | {
        "review_id": review.id, "sha256": hashlib.sha256(summary.encode()).hexdigest()})
    return review


def view(review: Review) -> dict[str, Any]:
    return {"id": review.id, "kind": review.kind, "author": review.author.email,
            "recorded_at": review.recorded_at.isoformat(), "summary": json.loads(review.summary)}
