"""A local GitHub for the protection-rule App: GitHub's documented behaviour over real HTTP.

Two endpoints, as the REST reference and OpenAPI description document them (sources in the
docstring of changegate.integrations.github):

- `POST /app/installations/{id}/access_tokens` needs `Authorization: Bearer <App JWT>`. The JWT
  is verified with the App's public key (RS256, `iss` = App id, `exp` in the future and at most
  10 minutes ahead, `iat` not in the future). 201 with `token`, `expires_at` (one hour),
  `permissions`, `repository_selection`; 401 with GitHub's message on a bad JWT (the messages
  are the ones GitHub returns, as reported in public issue threads); 404 for an unknown
  installation; 422 when the requested permissions were not granted.
- `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` needs
  `Authorization: Bearer <token>` or `token <token>` with an unexpired token this server issued
  for the run's installation (else 401 "Bad credentials", or 404 for another installation's
  run, as GitHub hides what a token cannot see). The body is `{environment_name, state, comment}`
  or a status report `{environment_name, comment}`; anything else is 422 "Validation Failed".
  An environment other than the one the run waits on is also 422: an assumption, since
  GitHub's reference documents only the 204.

Time is the server's own FakeClock; tests hand the same clock to the App so both move together.
Every request is recorded; `fail_next` and `delay_next` script failures for error mapping.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
import socket
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fixtures import fixture

SAMPLES_DIR = fixture("github-webhooks", "octokit-webhooks.net", "deployment_protection_rule")
SAMPLE = SAMPLES_DIR / "requested.payload.json"
DOCS = "https://docs.github.com/rest"
API_VERSIONS = {"2022-11-28", "2026-03-10"}
JWT_UNDECODABLE = "A JSON web token could not be decoded"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future"
    " time at which the assertion expires"
)
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_IAT_FUTURE = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the"
    " assertion was issued"
)
_TOKEN_PATH = re.compile(r"/app/installations/([0-9]+)/access_tokens")
_REVIEW_PATH = re.compile(
    r"/repos/([^/]+)/([^/]+)/actions/runs/([0-9]+)/deployment_protection_rule"
)
_LEVELS = {"read": 1, "write": 2, "admin": 3}

Reply = tuple[int, Mapping[str, Any] | None]


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def protection_rule_payload(
    *,
    installation_id: int,
    run_id: int,
    repository: str = "Codertocat/Hello-World",
    environment: str = "production",
    event: str = "push",
    sha: str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
    ref: str = "refs/heads/main",
    description: str | None = None,
    deployment_payload: object = None,
    api_url: str = "https://api.github.com",
) -> dict[str, Any]:
    """The octokit sample made real: an installation, top-level sha/ref and a callback URL
    on api.github.com (as GitHub sends it), with the deployment agreeing with them."""
    payload: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    owner, name = repository.split("/")
    payload.update(
        environment=environment,
        event=event,
        sha=sha,
        ref=ref,
        deployment_callback_url=(
            f"{api_url}/repos/{repository}/actions/runs/{run_id}/deployment_protection_rule"
        ),
        installation={"id": installation_id, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u"},
    )
    payload["deployment"].update(
        environment=environment,
        original_environment=environment,
        sha=sha,
        ref=ref.removeprefix("refs/heads/"),
        description=description,
        payload={} if deployment_payload is None else deployment_payload,
    )
    payload["repository"].update(full_name=repository, name=name)
    payload["repository"]["owner"]["login"] = owner
    return payload


class FakeClock:
    """GitHub's clock, shared with the App under test."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    status: int


@functools.lru_cache(maxsize=4)
def _public_key(private_key_pem: bytes) -> Any:
    """Cached: loading an RSA key validates it, which costs more than most tests here."""
    return serialization.load_pem_private_key(private_key_pem, password=None).public_key()


def _error(status: int, message: str, **extra: Any) -> Reply:
    return status, {"message": message, **extra, "documentation_url": DOCS, "status": str(status)}


class FakeGitHub:
    """One App (`app_id`, key pair), one installation, the runs waiting on it, and a record of
    every request. Start it with `with FakeGitHub(...) as fake:`; `fake.url` is the API root."""

    def __init__(
        self,
        private_key_pem: bytes | None = None,
        app_id: int = 424242,
        installation_id: int = 31337,
        clock: FakeClock | None = None,
        path_prefix: str = "",
    ) -> None:
        self.app_id = app_id
        self.path_prefix = path_prefix  # "/api/v3" serves the API as GitHub Enterprise Server does
        self.installation_id = installation_id
        self.private_key_pem = private_key_pem or generate_private_key_pem()
        self.public_key = _public_key(self.private_key_pem)
        self.clock = clock or FakeClock()
        self.installations: dict[int, dict[str, str]] = {
            installation_id: {"actions": "read", "deployments": "write", "metadata": "read"}
        }
        self.token_lifetime = timedelta(hours=1)
        self.requests: list[RecordedRequest] = []
        self.token_requests: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.issued_tokens: list[str] = []
        self.errors: list[BaseException] = []
        self._tokens: dict[str, tuple[int, datetime]] = {}
        self._runs: dict[tuple[str, int], tuple[str, int]] = {}
        self._failures: list[int] = []
        self._delays: list[float] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.handle_error = self._handle_error  # record fake bugs, not stderr noise
        # A short poll interval: shutdown() waits for the loop's next poll, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}{path_prefix}"

    # -- scripting --------------------------------------------------------------------------
    def pending_run(
        self,
        run_id: int,
        *,
        environment: str = "production",
        repository: str = "Codertocat/Hello-World",
        **overrides: Any,
    ) -> dict[str, Any]:
        """Make run `run_id` wait on our rule for `environment`; return the webhook payload."""
        with self._lock:
            self._runs[(repository.lower(), run_id)] = (environment, self.installation_id)
        return protection_rule_payload(
            installation_id=self.installation_id,
            run_id=run_id,
            repository=repository,
            environment=environment,
            **overrides,
        )

    def fail_next(self, count: int, status: int) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._delays.append(seconds)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()  # wakes delayed handlers so shutdown does not wait for them
        if self._thread.is_alive():  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # kept-alive connections would otherwise still answer
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, ConnectionError):
            self.errors.append(error)  # a fake bug: the fixture fails the test on it

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            self._stopping.wait(delay)
        if failure is not None:
            reply = _error(failure, HTTPStatus(failure).phrase)
        else:
            reply = self._route(method, path.split("?", 1)[0], headers, body)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, headers, body, reply[0]))
        return reply

    def _route(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        version = headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            return _error(400, f"API version '{version}' is not supported.")
        if not path.startswith(f"{self.path_prefix}/"):
            return _error(404, "Not Found")
        path = path.removeprefix(self.path_prefix)
        if method == "POST" and (match := _TOKEN_PATH.fullmatch(path)):
            return self._access_token(int(match[1]), headers, body)
        if method == "POST" and (match := _REVIEW_PATH.fullmatch(path)):
            return self._review(f"{match[1]}/{match[2]}", int(match[3]), headers, body)
        return _error(404, "Not Found")

    # -- POST /app/installations/{id}/access_tokens ---------------------------------------------
    def _access_token(self, installation_id: int, headers: Mapping[str, str], body: bytes) -> Reply:
        claims, problem = self._verify_jwt(headers.get("authorization", ""))
        requested = _json_object(body).get("permissions") if body else None
        reply = problem or self._issue(installation_id, requested)
        with self._lock:
            self.token_requests.append(
                {
                    "installation_id": installation_id,
                    "status": reply[0],
                    "claims": claims,
                    "permissions": requested,
                }
            )
        return reply

    def _verify_jwt(self, authorization: str) -> tuple[dict[str, Any] | None, Reply | None]:
        scheme, _, credential = authorization.partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise jwt.InvalidTokenError("not a bearer JWT")
            claims: dict[str, Any] = jwt.decode(
                credential,
                self.public_key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.InvalidTokenError:
            return None, _error(401, JWT_UNDECODABLE)
        now = self.clock.now().timestamp()
        if str(claims["iss"]) != str(self.app_id):
            return claims, _error(401, JWT_UNDECODABLE)  # another App's id: no key to check
        if claims["exp"] <= now:
            return claims, _error(401, JWT_EXPIRED)
        if claims["exp"] > now + 600:
            return claims, _error(401, JWT_TOO_LONG)
        if claims["iat"] > now:
            return claims, _error(401, JWT_IAT_FUTURE)
        return claims, None

    def _issue(self, installation_id: int, requested: object) -> Reply:
        granted = self.installations.get(installation_id)
        if granted is None:
            return _error(404, "Not Found")
        if requested is not None and not _within(requested, granted):
            return _error(422, "The permissions requested are not granted to this installation.")
        token = f"ghs_{secrets.token_hex(18)}"
        expires_at = self.clock.now() + self.token_lifetime
        with self._lock:
            self._tokens[token] = (installation_id, expires_at)
            self.issued_tokens.append(token)
        return 201, {
            "token": token,
            "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": dict(requested or granted),
            "repository_selection": "all",
        }

    # -- POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule ------------
    def _review(
        self, repository: str, run_id: int, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            issued = self._tokens.get(token) if scheme.lower() in ("bearer", "token") else None
            run = self._runs.get((repository.lower(), run_id))
        if issued is None or issued[1] <= self.clock.now():
            return _error(401, "Bad credentials")
        if run is None or run[1] != issued[0]:
            return _error(404, "Not Found")
        try:
            review = json.loads(body)
        except ValueError:
            return _error(400, "Problems parsing JSON")
        invalid = _invalid_review_field(review, environment=run[0])
        if invalid is not None:
            return _error(
                422,
                "Validation Failed",
                errors=[
                    {"resource": "DeploymentProtectionRule", "field": invalid, "code": "invalid"}
                ],
            )
        with self._lock:
            self.reviews.append({"run_id": run_id, "repository": repository, "body": review})
        return 204, None


def _invalid_review_field(review: object, environment: str) -> str | None:
    """The first field that breaks GitHub's request schema (anyOf state- or comment-required)."""
    if not isinstance(review, dict):
        return "body"
    unknown = set(review) - {"environment_name", "state", "comment"}
    if unknown:
        return sorted(unknown)[0]
    if review.get("environment_name") != environment:
        return "environment_name"
    if "state" in review and review["state"] not in ("approved", "rejected"):
        return "state"
    if not isinstance(review.get("comment", ""), str) or (
        "state" not in review and "comment" not in review
    ):
        return "comment"
    return None


def _within(requested: object, granted: Mapping[str, str]) -> bool:
    if not isinstance(requested, dict):
        return False
    return all(
        _LEVELS.get(str(level), 99) <= _LEVELS.get(granted.get(name, ""), 0)
        for name, level in requested.items()
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake._connections.add(self.connection)

        def finish(self) -> None:
            with fake._lock:
                fake._connections.discard(self.connection)
            super().finish()

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, payload = fake.handle(self.command, self.path, headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            if status != 204:  # RFC 9110: a 204 carries no Content-Length
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean; everything is in fake.requests

    return Handler
