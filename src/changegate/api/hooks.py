"""/hooks/github: GitHub's custom deployment protection rule, answered by the gate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from changegate.api.errors import problem
from changegate.bootstrap import App
from changegate.domain.documents import loads_json
from changegate.domain.errors import BadInput
from changegate.integrations import github, github_reviews
from changegate.integrations.ports import IntegrationError, PeerReview, ProtectionRuleRequest
from changegate.services import code_reviews, github_hooks
from changegate.services.context import Context
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
    delivery = github_hooks.delivery_key(request.headers.get("X-GitHub-Delivery", ""))
    if event == "ping":
        return JSONResponse({"status": "pong"})
    if not delivery:
        return problem(400, "bad-input", "X-GitHub-Delivery is missing")
    try:
        payload = loads_json(body, "body")
        if event in github_reviews.EVENTS:
            evidence = github_reviews.parse(event, payload)
            if evidence is None:
                return JSONResponse({"status": "ignored", "event": event}, status_code=202)
            return await run_in_threadpool(_keep, app, evidence, event, delivery)
        if event != EVENT or payload.get("action") != "requested":
            return JSONResponse({"status": "ignored", "event": event}, status_code=202)
        parsed = github.parse_protection_rule(payload)
    except (ValueError, AttributeError, BadInput) as exc:
        detail = exc.message if isinstance(exc, BadInput) else "the body is not a JSON object"
        return problem(400, "bad-input", detail)
    return await run_in_threadpool(_answer, app, parsed, delivery)


def _keep(app: App, evidence: PeerReview, event: str, delivery: str) -> JSONResponse:
    """Peer-review evidence: recorded once, linked to the change its branch or title names."""
    config = app.settings.github
    assert config is not None
    key = github.change_key_in((evidence.head_ref, evidence.title))

    def keep(ctx: Context) -> tuple[bool, str | None]:
        if not github_hooks.claim(ctx, delivery, event):
            return False, None
        linked = code_reviews.record(ctx, evidence, key, delivery)
        github_hooks.finish(ctx, delivery)
        return True, linked

    fresh, linked = app.run(keep, actor=config.principal)
    if not fresh:
        return JSONResponse({"status": "duplicate", "delivery": delivery})
    return JSONResponse({"status": "recorded", "event": event, "change": linked})


def _answer(app: App, request: ProtectionRuleRequest, delivery: str) -> JSONResponse:
    config = app.settings.github
    assert config is not None and app.reviewer is not None
    if not app.run(lambda ctx: github_hooks.claim(ctx, delivery, EVENT)):
        return JSONResponse({"status": "duplicate", "delivery": delivery})
    key = github.find_change_key(request)
    try:
        verdict: Verdict = app.run(
            lambda ctx: github_hooks.decide(ctx, request, key), actor=config.principal
        )
    except Exception:
        # Not answered: free the delivery so that GitHub's redelivery is answered, not a
        # "duplicate" while the run waits on a rule that never reports.
        app.run(lambda ctx: github_hooks.release(ctx, delivery), actor=config.principal)
        raise
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
