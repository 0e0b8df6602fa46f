"""What the server refuses before a route reads a byte of the body: an API call without a bearer
token, or with one no `token create` could have made (401, RFC 6750 section 3), and a body over
the limit (413, RFC 9110 section 15.5.14), by its Content-Length when sent and by counting the
stream when not. A well-formed token is checked against the database in the use case's own
transaction, after the body is parsed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from changegate.api import errors
from changegate.services import tokens

OPEN = frozenset({"/api/v1/health"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` mid-stream; an HTTPException so the body parser passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the {limit:,}-byte limit")


class Limits:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._refusal(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = dict(scope["headers"])
        path: str = scope.get("path", "")
        if path.startswith("/api/") and path not in OPEN:
            scheme, _, credential = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer":
                return errors.problem(401, "unauthorized", errors.NO_TOKEN)
            if not tokens.well_formed(credential.decode("latin-1").strip()):
                return errors.problem(
                    401, "unauthorized", tokens.REFUSED, 'Bearer error="invalid_token"'
                )
        length = headers.get(b"content-length")
        if length is None:
            return None
        if not length.isdigit():
            return errors.problem(400, "bad-input", "Content-Length is not a number of bytes")
        if int(length) > self.limit:
            return errors.problem(413, "too-large", str(BodyTooLarge(self.limit).detail))
        return None
