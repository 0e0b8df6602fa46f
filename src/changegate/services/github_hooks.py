"""GitHub deployment protection rules: decide through the gate, answer, record both.

The review call to GitHub happens between two transactions, never inside one: a slow GitHub
must not hold the ledger head lock, and the decision is recorded even if the answer fails.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from changegate.db.models import GateDecisionRecord, WebhookDelivery
from changegate.db.pipeline import Pipeline
from changegate.domain.errors import BadInput
from changegate.integrations.ports import ProtectionRuleRequest
from changegate.services import gate
from changegate.services.context import Context

# The widths of webhook_deliveries.delivery_id and .event.
DELIVERY_ID_WIDTH, EVENT_WIDTH = 100, 60

SOURCE = "github"


@dataclass(frozen=True)
class Verdict:
    decision_id: int | None
    approved: bool
    comment: str


def delivery_key(header: str) -> str:
    """The delivery id as stored: GitHub's (a GUID) as sent; anything longer than the column,
    by its SHA-256, so an over-long id is still de-duplicated and answered, never refused."""
    if len(header) <= DELIVERY_ID_WIDTH:
        return header
    return "sha256:" + hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()


def claim(ctx: Context, delivery_id: str, event: str) -> bool:
    """False if this delivery was already answered (a replay or a duplicate)."""
    row = WebhookDelivery(
        source=SOURCE,
        delivery_id=delivery_id,
        event=event[:EVENT_WIDTH],
        status="new",
        received_at=ctx.now,
    )
    return Pipeline(ctx.session).claim_delivery(row)


def decide(ctx: Context, request: ProtectionRuleRequest, key: str | None) -> Verdict:
    """Always a verdict: GitHub holds the deployment until it gets one, so whatever is wrong
    with the request (no SHA, an environment the policy does not know) is a recorded denial."""
    where = f"{request.repository} run {request.run_id}"
    try:
        if request.sha is None:
            raise BadInput("the request carries no commit SHA")
        record = gate.check(
            ctx,
            key,
            request.environment,
            request.sha,
            None,
            SOURCE,
            answer_unknown_environment=True,
        )
    except BadInput as exc:
        ctx.record("github.denied_unparseable", where, {"reason": exc.message})
        return Verdict(None, False, f"changegate: DENIED {where}: {exc.message}")
    return Verdict(record.id, record.allowed, comment_for(record, where))


def comment_for(record: GateDecisionRecord, where: str) -> str:
    verdict = "ALLOWED" if record.allowed else "DENIED"
    lines = [
        f"changegate {verdict} {record.change_key} {record.commit[:12]} to "
        f"{record.environment} ({where}, decision {record.id})"
    ]
    lines += [
        f"- {'ok' if r['ok'] else 'NO'} {r['control']}: {r['message']}" for r in record.reasons
    ]
    lines += [f"- due: {due}" for due in record.obligations]
    return "\n".join(lines)


def settle(ctx: Context, delivery_id: str, verdict: Verdict, error: str | None) -> None:
    """Mark the delivery answered, or failed so that a redelivery may try again."""
    Pipeline(ctx.session).finish_delivery(SOURCE, delivery_id, "failed" if error else "done")
    ctx.record(
        "github.review_failed" if error else "github.review_sent",
        delivery_id,
        {"decision_id": verdict.decision_id, "approved": verdict.approved, "error": error},
    )


def finish(ctx: Context, delivery_id: str) -> None:
    """The delivery is fully handled: a replay of it is a duplicate."""
    Pipeline(ctx.session).finish_delivery(SOURCE, delivery_id, "done")


def release(ctx: Context, delivery_id: str) -> None:
    """The delivery was claimed but not answered (the decision failed): a redelivery may try."""
    Pipeline(ctx.session).finish_delivery(SOURCE, delivery_id, "failed")
