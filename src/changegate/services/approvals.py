"""CAB and ISO decisions on a change, before implementation or retroactively (CM-2, CM-3)."""

from __future__ import annotations

from collections.abc import Sequence

from changegate.db.changes import Changes
from changegate.db.models import Approval, Change
from changegate.domain import changes as rules
from changegate.domain.approvals import (
    ApprovalRole,
    Decision,
    Tally,
    Vote,
    check_may_decide,
    check_version,
    tally,
)
from changegate.domain.changes import Action, ChangeStatus, ChangeType, Risk
from changegate.domain.errors import BadInput, Refused
from changegate.services import code_reviews
from changegate.services.context import Context


def votes_of(approvals: Sequence[Approval]) -> list[Vote]:
    return [
        Vote(a.approver.email, ApprovalRole(a.role), Decision(a.decision), a.version)
        for a in approvals
    ]


def current_tally(
    ctx: Context, change: Change, approvals: Sequence[Approval] | None = None
) -> Tally:
    """`approvals`: every decision on the change, when the caller already read them."""
    if approvals is None:
        approvals = Changes(ctx.session).approvals(change)
    votes = votes_of(approvals)
    return tally(votes, change.version, ctx.policy.quorum(Risk(change.risk)))


def _retroactive(change: Change) -> bool:
    status = ChangeStatus(change.status)
    if status is ChangeStatus.SUBMITTED:
        return False
    if (
        status is ChangeStatus.IMPLEMENTED
        and change.change_type == ChangeType.EMERGENCY.value
        and change.retro_due_at is not None
        and change.retro_approved_at is None
    ):
        return True
    raise Refused("state", f"{change.key} is {status.value}; nothing awaits a decision")


def decide(
    ctx: Context,
    key: str,
    role: ApprovalRole,
    decision: Decision,
    version: int,
    comment: str = "",
    version_hash: str | None = None,
) -> Change:
    """The current user's decision on `version` of change `key`, the version they read (and,
    if given, whose hash they read).

    Raises VersionMoved if the change is at another version, Refused (SoD, state), Forbidden."""
    if decision is Decision.REJECTED and not comment.strip():
        raise BadInput("a rejection needs a --comment saying why")
    repo = Changes(ctx.session)
    change = repo.get(key)
    check_version(change.key, version, change.version)
    if version_hash is not None and version_hash != change.version_hash:
        raise BadInput(f"{change.key}: version {version} does not have the hash {version_hash}")
    approver = ctx.user()
    retro = _retroactive(change)
    votes = votes_of(repo.approvals(change))
    check_may_decide(
        approver.email,
        approver.role_names,
        role,
        change.requester.email,
        code_reviews.authors_of(ctx, change),
        votes,
        change.version,
    )
    repo.add_approval(
        Approval(
            change_id=change.id,
            version=change.version,
            role=role.value,
            decision=decision.value,
            approver_id=approver.id,
            comment=comment.strip(),
            decided_at=ctx.now,
            retroactive=retro,
        )
    )
    change.updated_at = ctx.now
    ctx.record(
        f"change.{decision.value}_by_{role.value}",
        change.key,
        {
            "version": change.version,
            "hash": change.version_hash,
            "role": role.value,
            "decision": decision.value,
            "comment": comment.strip(),
            "retroactive": retro,
        },
    )
    _settle(ctx, change, decision, retro)
    repo.save(change)
    return change


def _settle(ctx: Context, change: Change, decision: Decision, retro: bool) -> None:
    if decision is Decision.REJECTED:
        if not retro:
            change.status = rules.transition(ChangeStatus(change.status), Action.REJECT).value
            ctx.record("change.rejected", change.key, {"version": change.version})
        return
    result = current_tally(ctx, change)
    if not result.complete:
        return
    if retro:
        change.retro_approved_at = ctx.now
        ctx.record("change.retro_approved", change.key, _quorum_payload(change, result))
        return
    change.status = rules.transition(ChangeStatus(change.status), Action.APPROVE).value
    change.approved_at = ctx.now
    ctx.record("change.approved", change.key, _quorum_payload(change, result))


def _quorum_payload(change: Change, result: Tally) -> dict[str, object]:
    return {
        "version": change.version,
        "hash": change.version_hash,
        "cab": list(result.cab_approvers),
        "iso": result.iso_approver,
    }
