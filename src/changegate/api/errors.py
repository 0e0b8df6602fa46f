"""The one table from domain errors to HTTP statuses, and RFC 9457 problem bodies."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from changegate.domain.errors import (
    BadInput,
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    Refused,
    Unauthenticated,
    VersionMoved,
    VersionRequired,
)

STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "not-found"),
    BadInput: (422, "bad-input"),
    Forbidden: (403, "forbidden"),
    InvalidTransition: (409, "invalid-transition"),
    Refused: (409, "refused-by-rule"),
    Conflict: (409, "conflict"),
    VersionMoved: (409, "version-moved"),
    VersionRequired: (428, "version-required"),
}


NO_TOKEN = "send `Authorization: Bearer <token>` (create one with `changegate token create`)"


class Unauthorized(Unauthenticated):
    """No or malformed credentials (HTTP 401, not 403: the caller is unknown)."""


STATUS[Unauthenticated] = (401, "unauthorized")


def problem(
    status: int, kind: str, detail: str, challenge: str = "Bearer", **extra: object
) -> JSONResponse:
    body = {
        "type": f"https://changegate.dev/problems/{kind}",
        "title": kind.replace("-", " "),
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"WWW-Authenticate": challenge} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _plain(message: object) -> str:
    """Pydantic prefixes a validator's own message with its error type; people need only
    the message."""
    return str(message).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def status_of(exc: DomainError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 422, "bad-input"


def install(api: FastAPI) -> None:
    @api.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        status, kind = status_of(exc)
        control = getattr(exc, "control", None)
        extra: dict[str, object] = {"control": control} if control else {}
        # RFC 6750 section 3.1: a token was sent but names no one.
        invalid = isinstance(exc, Unauthenticated) and not isinstance(exc, Unauthorized)
        challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
        return problem(status, kind, exc.message, challenge, **extra, **getattr(exc, "extra", {}))

    @api.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = [{"loc": list(e.get("loc", ())), "msg": _plain(e.get("msg"))} for e in exc.errors()]
        first = found[0] if found else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return problem(422, "bad-input", f"{where}: {first['msg']}", errors=found)

    @api.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):
            return problem(400, "bad-input", "body: nested too deeply")
        kind = {413: "too-large"}.get(exc.status_code, "http-error")
        return problem(exc.status_code, kind, str(exc.detail))

    @api.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Never a traceback to the caller; the server log has it.
        return problem(500, "internal-error", f"internal error ({type(exc).__name__})")
