"""CI-facing commands against a changegate server, with only a URL and a token.

It fails closed: if the server cannot be reached or answers with anything unexpected, the
command exits non-zero, so a pipeline step that guards a deployment stops it.
"""

from __future__ import annotations

from typing import Any

import httpx

from changegate.domain.errors import (
    BadInput,
    DomainError,
    Forbidden,
    Refused,
    Unauthenticated,
    VersionMoved,
)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class Unreachable(BadInput):
    pass


class Remote:
    def __init__(self, url: str, token: str | None) -> None:
        if not token:
            raise BadInput("CHANGEGATE_URL is set but CHANGEGATE_TOKEN is not")
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"CHANGEGATE_URL must be an http(s) URL, got {url!r}")
        self.url = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.url,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "changegate-cli"},
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def content(self, method: str, path: str, **kwargs: Any) -> bytes:
        """The answer's body as bytes (a document: HTML, PDF), not JSON."""
        return self._send(method, path, **kwargs).content

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach changegate at {self.url} ({type(exc).__name__}); failing closed"
            ) from None
        finally:
            self.client.close()
        if response.is_success:
            return response
        raise problem(response)

    def download(self, path: str, **kwargs: Any) -> bytes:
        """A GET whose answer is a document (HTML, PDF), not JSON: its bytes."""
        try:
            response = self.client.request("GET", path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"cannot reach changegate at {self.url} ({type(exc).__name__}); failing closed"
            ) from None
        finally:
            self.client.close()
        if response.is_success:
            return response.content
        raise problem(response)


def problem(response: httpx.Response) -> DomainError:
    """The domain error an RFC 9457 problem answer stands for."""
    try:
        body = response.json()
        detail = str(body.get("detail") or body)
    except ValueError:
        body, detail = {}, response.text[:200] or response.reason_phrase
    status = response.status_code
    if status == 401:
        return Unauthenticated(detail)
    if status == 403:
        return Forbidden(detail)
    if status == 409 and isinstance(body, dict) and body.get("current_version") is not None:
        return VersionMoved(
            str(body.get("key")), int(body["your_version"]), int(body["current_version"])
        )
    if status == 409:
        control = body.get("control") if isinstance(body, dict) else None
        return Refused(control or "rule", detail.removeprefix(f"{control}: "))
    return BadInput(f"changegate answered {status}: {detail}")
