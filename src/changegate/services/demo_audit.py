"""The demo's exception and its quarter-end audit: one waiver, jointly approved in time, that
suppresses the late retroactive approval it was granted for; everything else is reported."""

from __future__ import annotations

from dataclasses import dataclass

from changegate.db.waivers import Waivers
from changegate.domain.approvals import ApprovalRole, Decision
from changegate.services import audits, waiver_reviews, waivers
from changegate.services.context import Context
from changegate.services.demo_data import emails

JUSTIFICATION = (
    "The ISO is at an offsite without access until next week; the retroactive ISO "
    "approval of this emergency will land after its five-business-day deadline."
)
COMPENSATING = (
    "The CAB chair reviewed the incident the next morning; the ISO reviews it on "
    "return, and the PIR is due on time."
)


@dataclass(frozen=True)
class AuditSummary:
    period: str
    findings: int
    suppressed: int
    waivers: tuple[str, ...]
    # AUTH-1's: the seed decides in-process, as `--as` does, so each decision is one.
    unauthenticated: int = 0


def waiver_op(ctx: Context, change_key: str, op: str, role: ApprovalRole | None) -> None:
    if op == "waiver_request":
        waivers.request(
            ctx,
            f"Late ISO retro approval for {change_key}",
            JUSTIFICATION,
            COMPENSATING,
            ["CM-3"],
            "change",
            change_key,
            14,
        )
        return
    pending = next(w for w in Waivers(ctx.session).list() if w.scope_value == change_key)
    if op == "waiver_close":
        waiver_reviews.review(
            ctx,
            pending.key,
            "close",
            "The ISO approved the change on return; exception no longer needed.",
        )
        return
    waivers.decide(
        ctx,
        pending.key,
        role or ApprovalRole.CAB,
        Decision.APPROVED,
        "Approved: compensating review is adequate.",
    )


def waiver_approvers() -> tuple[str, str]:
    """The CAB chair and the ISO: two people, neither of them the requester."""
    return emails("cab")[0], emails("iso")[0]


def run_audit(ctx: Context, period: str) -> AuditSummary:
    outcome = audits.run_requested(ctx, period)
    suppressing = sorted({f.waiver_key for f in outcome.findings if f.waiver_key})
    return AuditSummary(
        period,
        len(outcome.findings),
        sum(1 for f in outcome.findings if f.waiver_key),
        tuple(suppressing),
        sum(1 for f in outcome.findings if f.control == "AUTH-1"),
    )
