"""Mount the web app on the API's FastAPI application: pages, static files, headers, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from changegate.api.errors import status_of
from changegate.domain.errors import DomainError
from changegate.web import (
    admin,
    cab,
    calendar,
    changes,
    dashboard,
    home,
    people,
    records,
    reviews,
)
from changegate.web.pages import Identity, WebError, render

# No inline script or style anywhere: everything comes from /static (DESIGN section 8).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
NOT_WEB = ("/api/", "/hooks/", "/docs", "/redoc", "/openapi.json", "/static-offline-docs")


def is_web(path: str) -> bool:
    return not path.startswith(NOT_WEB)


def install(api: FastAPI, identity: Identity) -> None:
    """Add the pages to `api` (after its API routes, whose roles the pages obey, and the
    sign-in routes); `identity` is web/auth.py's CSRF (auth.IDENTITY)."""
    api.state.web_identity = identity
    static = files("changegate.web").joinpath("static")
    api.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (home, dashboard, changes, calendar, records, reviews, cab, people, admin):
        api.include_router(module.router)
    _install_errors(api)

    @api.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if is_web(request.url.path):
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response


Handler = Callable[[Request, Any], Awaitable[Response]]


def _install_errors(api: FastAPI) -> None:
    """Web paths answer errors as pages; API paths keep their problem documents."""

    def page_or(kind: type[Exception], page: Callable[[Request, Any], Response]) -> None:
        api_handler: Handler | None = api.exception_handlers.get(kind)  # type: ignore[assignment]

        async def handle(request: Request, exc: Any) -> Response:
            if is_web(request.url.path) or api_handler is None:
                return page(request, exc)
            return await api_handler(request, exc)

        api.add_exception_handler(kind, handle)

    page_or(WebError, lambda r, e: _error(r, e.status, e.message))
    page_or(DomainError, lambda r, e: _error(r, status_of(e)[0], e.message))
    page_or(RequestValidationError, lambda r, e: _error(r, 400, _invalid(e)))
    page_or(HTTPException, lambda r, e: _error(r, e.status_code, str(e.detail)))


def _invalid(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    field = str((first.get("loc") or ["", "input"])[-1]).replace("_", " ")
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"The form's {field}: {message}. Nothing was saved."


def _error(request: Request, status: int, message: str) -> Response:
    return render(request, None, "error.html", {"status": status, "message": message}, status)
