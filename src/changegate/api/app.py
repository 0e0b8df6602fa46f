"""The FastAPI application, built around an App from the composition root."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from changegate import __version__
from changegate.api import (
    audits,
    cab,
    calendar,
    changes,
    configuration,
    dashboard,
    errors,
    hooks,
    linear_hooks,
    people,
    pipeline,
    reviews,
    statuses,
    trail,
    waivers,
)
from changegate.api.head import HeadAsGet
from changegate.api.limits import Limits
from changegate.bootstrap import App
from changegate.web import app as web
from changegate.web import auth

DESCRIPTION = """Change management that is enforced where it can be and evidenced always.

Authenticate with `Authorization: Bearer <token>` (`changegate token create`). Each operation
lists the roles that may call it under `x-roles`. Errors are RFC 9457 problem documents. Lists
are pages: `items`, `total`, `limit`, `offset`."""


class HealthOut(BaseModel):
    status: str


def create_app(app: App) -> FastAPI:
    # The docs' JavaScript and CSS are served from a package, not a CDN: /docs works offline.
    api = FastAPIOffline(
        title="changegate",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    api.state.changegate = app
    errors.install(api)
    api.add_middleware(HeadAsGet)
    api.add_middleware(Limits, max_body_bytes=app.settings.max_body_bytes)

    @api.middleware("http")
    async def refuse_nul(request: Request, call_next: Any) -> Response:
        # PostgreSQL cannot compare text with NUL in it: refuse it at the door, as bad input,
        # rather than let a lookup by name or status fail as a server error.
        raw = request.scope.get("raw_path", b"") + request.scope.get("query_string", b"")
        if "\x00" in request.url.path or b"%00" in raw:
            return errors.problem(400, "bad-input", "NUL characters are not allowed in URLs")
        response: Response = await call_next(request)
        return response

    routers = (
        changes,
        pipeline,
        hooks,
        linear_hooks,
        configuration,
        audits,
        reviews,
        waivers,
        people,
        cab,
        trail,
    )
    for module in (*routers, dashboard, calendar):
        statuses.declare(module.router)
        api.include_router(module.router)

    auth.install(api)
    web.install(api, auth.IDENTITY)

    @api.get("/api/v1/health", tags=["health"], summary="Liveness; no authentication")
    def health() -> HealthOut:
        return HealthOut(status="ok")

    return api
