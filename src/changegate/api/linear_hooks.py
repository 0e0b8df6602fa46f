"""/hooks/linear: Linear's webhook, checked and queued; the worker does the work.

Answered in milliseconds (Linear wants a 200 within 5 s): the delivery is verified (HMAC over
the raw body, timestamp within 60 s), claimed once by its `Linear-Delivery` id, and the issue
it names is queued in the outbox with the claim, in one transaction. The payload is only a
hint: the worker reads the issue back over GraphQL before acting (services/linear_delivery).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from changegate.api.errors import problem
from changegate.bootstrap import App
from changegate.db.models import WebhookDelivery
from changegate.db.pipeline import Pipeline
from changegate.domain.documents import loads_json
from changegate.domain.errors import BadInput
from changegate.integrations import linear
from changegate.services import linear_outbound
from changegate.services.context import Context
from changegate.services.github_hooks import EVENT_WIDTH, delivery_key

router = APIRouter(tags=["webhooks"])
SOURCE = "linear"


class LinearHookOut(BaseModel):
    """What a Linear delivery is answered: queued for the worker, or not about an issue."""

    status: str = Field(examples=["queued", "ignored"])
    delivery: str | None = None
    issue: str | None = None


@router.post(
    "/hooks/linear",
    summary="Linear webhook (issues that ask for a change or a waiver)",
    status_code=202,
    responses={
        202: {"model": LinearHookOut, "description": "queued for the worker, or ignored"},
        400: {"description": "not a Linear delivery"},
        401: {"description": "bad signature, or a timestamp more than 60 s off"},
        404: {"description": "Linear is not configured on this server"},
        409: {"description": "this delivery was received before (a replay)"},
    },
)
async def linear_hook(request: Request) -> JSONResponse:
    app: App = request.app.state.changegate
    config = app.settings.linear
    if config is None:
        return problem(404, "not-configured", "Linear is not configured on this server")
    body = await request.body()
    signature = request.headers.get("Linear-Signature")
    if not linear.verify_signature(config.webhook_secret.encode(), body, signature):
        return problem(401, "bad-signature", "Linear-Signature does not match the body")
    try:
        payload = loads_json(body, "body")
    except (ValueError, BadInput):
        payload = None
    if not isinstance(payload, dict):
        return problem(400, "bad-input", "the body is not a JSON object")
    stamp = linear.timestamp_ms(payload, request.headers.get("Linear-Timestamp"))
    if not linear.fresh(stamp, app.now()):
        return problem(
            401, "stale-delivery", "webhookTimestamp is missing or more than 60 s from now"
        )
    delivery = delivery_key(request.headers.get("Linear-Delivery", "").strip())
    if not delivery:
        return problem(400, "bad-input", "Linear-Delivery is missing")
    issue_id = linear.hinted_issue(payload)
    if issue_id is None:
        return JSONResponse({"status": "ignored", "delivery": delivery}, status_code=202)
    event = str(payload.get("type") or "")[:EVENT_WIDTH]
    if not await run_in_threadpool(app.run, lambda ctx: _queue(ctx, delivery, event, issue_id)):
        return problem(409, "replayed-delivery", f"delivery {delivery} was received before")
    return JSONResponse(
        {"status": "queued", "delivery": delivery, "issue": issue_id}, status_code=202
    )


def _queue(ctx: Context, delivery: str, event: str, issue_id: str) -> bool:
    row = WebhookDelivery(
        source=SOURCE, delivery_id=delivery, event=event, status="new", received_at=ctx.now
    )
    pipeline = Pipeline(ctx.session)
    if not pipeline.claim_delivery(row):
        return False
    linear_outbound.queue_issue(ctx.session, issue_id, delivery, ctx.now)
    pipeline.finish_delivery(SOURCE, delivery, "done")
    return True
