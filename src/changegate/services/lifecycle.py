"""After approval: implement, post-implementation review, close, and what is overdue (CM-3)."""

from __future__ import annotations

from dataclasses import dataclass

from changegate.db.changes import Changes
from changegate.db.models import Change, Review
from changegate.domain import changes as rules
from changegate.domain.changes import ChangeStatus, ChangeType
from changegate.domain.deadlines import (
    ObligationState,
    Overdue,
    check_closable,
    emergency_obligations,
    overdue,
)
from changegate.domain.errors import BadInput, Forbidden, Refused
from changegate.domain.users import Role
from changegate.services.context import Context

PIR = "pir"


def obligations(change: Change) -> ObligationState:
    return ObligationState(
        change.key,
        change.retro_due_at,
        change.retro_approved_at is not None,
        change.pir_due_at,
        change.pir_recorded_at is not None,
    )


def implement(ctx: Context, key: str) -> Change:
    repo = Changes(ctx.session)
    change = repo.get(key)
    user = ctx.user_with(Role.REQUESTER, Role.PIPELINE)
    if Role.PIPELINE.value not in user.role_names and user.id != change.requester_id:
        raise Forbidden(f"only the requester or a pipeline may implement {key}")
    status, kind = ChangeStatus(change.status), ChangeType(change.change_type)
    target = rules.transition(status, rules.implement_action(kind, status))
    _by_pipeline_in_production(ctx, change, kind, Role.PIPELINE.value in user.role_names)
    approved = status is ChangeStatus.APPROVED
    calendar = ctx.policy.calendar(ctx.now)
    due = emergency_obligations(
        kind,
        approved,
        ctx.now,
        calendar,
        ctx.policy.emergency.retro_approval_business_days,
        ctx.policy.emergency.pir_business_days,
    )
    change.status, change.implemented_at, change.updated_at = target.value, ctx.now, ctx.now
    change.implemented_by_id = user.id
    change.approved_before_implementation = approved
    change.retro_due_at, change.pir_due_at = due.retro_due_at, due.pir_due_at
    change.due_calendar = calendar.describe() if kind is ChangeType.EMERGENCY else None
    repo.save(change)
    ctx.record(
        "change.implemented",
        change.key,
        {
            "version": change.version,
            "approved_before": approved,
            "retro_due_at": due.retro_due_at.isoformat() if due.retro_due_at else None,
            "pir_due_at": due.pir_due_at.isoformat() if due.pir_due_at else None,
            "calendar": change.due_calendar,
        },
    )
    return change


def _by_pipeline_in_production(
    ctx: Context, change: Change, kind: ChangeType, pipeline: bool
) -> None:
    """CM-5: deployments only through CI/CD. A normal change bound for production is
    implemented by its pipeline deployment (`deploy start`/`finish` after the gate), never
    marked so by a person; an emergency keeps `change implement`, its retroactive approval
    and PIR falling due from then (CM-3)."""
    if pipeline or kind is ChangeType.EMERGENCY:
        return
    production = [e for e in change.environments if _production(ctx, e)]
    if production:
        raise Refused(
            "CM-5",
            f"{change.key} goes to production ({', '.join(production)}): a pipeline "
            "deployment implements it (`changegate deploy start` after `gate check`), not a person",
        )


def _production(ctx: Context, name: str) -> bool:
    try:
        return ctx.policy.environment(name).production
    except BadInput:  # an environment the policy no longer defines
        return False


def record_pir(ctx: Context, key: str, summary: str) -> Review:
    if not summary.strip():
        raise BadInput("a post-implementation review needs a --summary")
    repo = Changes(ctx.session)
    change = repo.get(key)
    user = ctx.user()
    if user.id != change.requester_id and not {"cab", "iso"} & set(user.role_names):
        raise Forbidden(f"only the requester, CAB or the ISO may record a review of {key}")
    if change.status not in (ChangeStatus.IMPLEMENTED.value, ChangeStatus.CLOSED.value):
        raise BadInput(f"{key} is {change.status}; a PIR follows implementation")
    review = Review(
        kind=PIR,
        change_id=change.id,
        author_id=user.id,
        summary=summary.strip(),
        recorded_at=ctx.now,
    )
    repo.add_review(review)
    late = change.pir_due_at is not None and ctx.now >= change.pir_due_at
    if change.pir_recorded_at is None:
        change.pir_recorded_at = ctx.now
    change.updated_at = ctx.now
    repo.save(change)
    ctx.record(
        "change.pir_recorded",
        change.key,
        {"review_id": review.id, "summary": review.summary, "late": late},
    )
    return review


def close(ctx: Context, key: str) -> Change:
    repo = Changes(ctx.session)
    change = repo.get(key)
    user = ctx.user()
    if user.id != change.requester_id and not {"cab", "iso"} & set(user.role_names):
        raise Forbidden(f"only the requester, CAB or the ISO may close {key}")
    target = rules.transition(ChangeStatus(change.status), rules.Action.CLOSE)
    check_closable(obligations(change))
    change.status, change.closed_at, change.updated_at = target.value, ctx.now, ctx.now
    repo.save(change)
    ctx.record("change.closed", change.key, {"version": change.version})
    return change


@dataclass(frozen=True)
class OverdueChange:
    change: Change
    items: list[Overdue]


def list_overdue(ctx: Context) -> list[OverdueChange]:
    out = []
    for change in Changes(ctx.session).with_open_obligations():
        items = overdue(obligations(change), ctx.now)
        if items:
            out.append(OverdueChange(change, items))
    return out
