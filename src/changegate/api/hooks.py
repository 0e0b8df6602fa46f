"""/hooks/github: GitHub's custom deployment protection rule, answered by the gate."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from changegate.api.errors import problem
from changegate.bootstrap import App
from changegate.domain.errors import BadInput
from changegate.integrations import github
from changegate.integrations.ports import IntegrationError, ProtectionRuleRequest
from changegate.services import github_hooks
from changegate.services.github_hooks import Verdict

router = APIRouter(tags=["webhooks"])
EVENT = "deployment_protection_rule"


class HookAnswerOut(BaseModel):
    """What a webhook delivery is answered: the gate decision it led to, or why none."""

    status: str | None = Field(default=None, examples=["pong", "ignored", "duplicate"])
    event: str | None = None
    delivery: str | None = None
    decision_id: int | None = None
    change: str | None = None
    state: str | None = Field(default=None, examples=["approved", "rejected"])


@router.post(
    "/hooks/github",
    summary="GitHub App webhook (deployment protection rules)",
    responses={
        200: {"model": HookAnswerOut, "description": "answered (and GitHub told)"},
        202: {"model": HookAnswerOut, "description": "an event this hook does not act on"},
        401: {"description": "bad signature"},
        502: {"description": "the decision was recorded but GitHub could not be answered"},
    },
)
async def github_hook(request: Request) -> JSONResponse:
    app: App = request.app.state.changegate
    config = app.settings.github
    if config is None or app.reviewer is None:
        return problem(404, "not-configured", "the GitHub App is not configured on this server")
    body = await request.body()
    if not github.verify_signature(
        config.webhook_secret.encode(), body, request.headers.get("X-Hub-Signature-256")
    ):
        return problem(401, "bad-signature", "X-Hub-Signature-256 does not match the body")
    event = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if event == "ping":
        return JSONResponse({"status": "pong"})
    if not delivery:
        return problem(400, "bad-input", "X-GitHub-Delivery is missing")
    try:
        payload = json.loads(body)
        if event != EVENT or payload.get("action") != "requested":
            return JSONResponse({"status": "ignored", "event": event}, status_code=202)
        parsed = github.parse_protection_rule(payload)
    except (ValueError, AttributeError, BadInput) as exc:
        detail = exc.message if isinstance(exc, BadInput) else "the body is not a JSON object"
        return problem(400, "bad-input", detail)
    return await run_in_threadpool(_answer, app, parsed, delivery)


def _answer(app: App, request: ProtectionRuleRequest, delivery: str) -> JSONResponse:
    config = app.settings.github
    assert config is not None and app.reviewer is not None
    if not app.run(lambda ctx: github_hooks.claim(ctx, delivery, EVENT)):
        return JSONResponse({"status": "duplicate", "delivery": delivery})
    key = github.find_change_key(request)
    verdict: Verdict = app.run(
        lambda ctx: github_hooks.decide(ctx, request, key), actor=config.principal
    )
    error = None
    try:
        app.reviewer.review(request, verdict.approved, verdict.comment)
    except IntegrationError as exc:
        error = str(exc)
    app.run(lambda ctx: github_hooks.settle(ctx, delivery, verdict, error), actor=config.principal)
    body: dict[str, Any] = {
        "decision_id": verdict.decision_id,
        "change": key,
        "state": "approved" if verdict.approved else "rejected",
    }
    if error:
        return problem(502, "github-unreachable", error, **body)
    return JSONResponse(body)
