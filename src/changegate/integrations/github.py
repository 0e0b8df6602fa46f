"""GitHub App adapter for custom deployment protection rules.

GitHub POSTs a `deployment_protection_rule` webhook (action `requested`) to `/hooks/github`; we
evaluate the gate and answer on the run's callback with an installation token minted from an App
JWT. What this module relies on, and where GitHub documents it:

- Webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`, compared
  in constant time; GitHub's test vector (secret "It's a Secret to Everybody", body
  "Hello, World!") is in the tests. Payloads carry no timestamp: dedupe on `X-GitHub-Delivery`.
  https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
- Payload: action, environment, event, sha and ref ("always populated from the check suite"),
  deployment_callback_url, deployment (nullable), pull_requests, repository, installation, sender.
  There is no workflow_run/head_commit, so no commit message: `head_commit_message` is read only
  if a future payload carries `workflow_run.head_commit.message`.
  OpenAPI schema `webhook-deployment-protection-rule-requested` (github/rest-api-description) and
  https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_protection_rule
- App JWT: RS256; `iat` 60 s in the past; `exp` no more than 10 minutes ahead; `iss` the App id.
  https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
- `POST /app/installations/{installation_id}/access_tokens` with `Authorization: Bearer <JWT>`:
  201 `{token, expires_at, permissions, repository_selection}`, else 401/403/404/422. Tokens
  live one hour and an expired one gets 401; the token's length is not fixed (ghs_APPID_JWT).
  https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
- `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` with
  `{environment_name, state: approved|rejected, comment}`: 204. Comments (status reports) are
  Markdown "up to 1024 characters"; the OpenAPI schema sets no maxLength, so we cap at 1024.
  https://docs.github.com/en/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run
  https://docs.github.com/en/actions/how-tos/deploy/configure-and-manage-deployments/create-custom-protection-rules
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from changegate.domain.errors import BadInput
from changegate.integrations.payload import (
    Fields,
    is_int,
    mapping,
    optional_int,
    optional_str,
)
from changegate.integrations.ports import IntegrationError, ProtectionRuleRequest

API_VERSION: Final = "2022-11-28"
COMMENT_LIMIT: Final = 1024
# The token only has to answer the protection rule: ask for no more than the documented example.
TOKEN_PERMISSIONS: Final[Mapping[str, str]] = MappingProxyType({"deployments": "write"})
_JWT_BACKDATE: Final = timedelta(seconds=60)
# 10 minutes is GitHub's maximum; with a host clock a few seconds ahead of GitHub's that gets
# 401 "'Expiration time' claim ('exp') is too far in the future", so stay a minute short.
_JWT_AHEAD: Final = timedelta(minutes=9)
_TOKEN_MARGIN: Final = timedelta(minutes=1)
_FIELDS: Final = Fields("deployment_protection_rule webhook")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_CHANGE_KEY = re.compile(r"(?<![A-Za-z0-9])CHG-([0-9]{1,18})(?![0-9])", re.IGNORECASE)
# Searched, not matched, in the URL path: GitHub Enterprise Server puts /api/v3 before /repos.
_CALLBACK = re.compile(
    r"/repos/([\w.-]+)/([\w.-]+)/actions/runs/([0-9]{1,19})"
    r"/deployment_protection_rule/?$",
    re.ASCII,
)


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only if `header` is GitHub's `sha256=<hex>` HMAC of the raw `body` under `secret`."""
    if not secret or header is None:
        return False  # an empty secret would let anyone who guesses it sign deliveries
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def parse_protection_rule(payload: Mapping[str, Any]) -> ProtectionRuleRequest:
    """The webhook body as a ProtectionRuleRequest; BadInput names the first missing field.

    sha and ref come from the top level (GitHub fills them even when no deployment object is
    created) and fall back to the deployment's (older payloads, the octokit sample).
    """
    action = _FIELDS.text(payload, "action")
    environment = _FIELDS.text(payload, "environment")
    event = _FIELDS.text(payload, "event")
    callback_url = _FIELDS.text(payload, "deployment_callback_url")
    installation_id = _FIELDS.number(mapping(payload, "installation"), "id", "installation.id")
    repository = _FIELDS.text(mapping(payload, "repository"), "full_name", "repository.full_name")
    callback_path, run_id = _callback_target(callback_url, repository)
    sender = _FIELDS.text(mapping(payload, "sender"), "login", "sender.login")
    deployment = mapping(payload, "deployment")
    return ProtectionRuleRequest(
        action=action,
        environment=environment,
        event=event,
        callback_url=callback_url,
        callback_path=callback_path,
        installation_id=installation_id,
        repository=repository,
        run_id=run_id,
        sender=sender,
        sha=optional_str(payload, "sha") or optional_str(deployment, "sha"),
        ref=optional_str(payload, "ref") or optional_str(deployment, "ref"),
        deployment_id=optional_int(deployment, "id"),
        deployment_description=optional_str(deployment, "description"),
        deployment_payload=_deployment_payload(deployment.get("payload")),
        head_commit_message=optional_str(
            mapping(mapping(payload, "workflow_run"), "head_commit"), "message"
        ),
        pull_requests=_pull_request_numbers(payload.get("pull_requests")),
    )


def find_change_key(request: ProtectionRuleRequest) -> str | None:
    """The change key (`CHG-42`) the deployment claims, or None.

    Precedence, first match wins: the deployment payload's `change`, then its
    `changegate.change` (explicit beats inferred); the deployment description; the ref
    (`chg-42/fix-login`, `CHG-42-hotfix`); the head commit message, which this event does not
    carry today. Case-insensitive; normalised to `CHG-<int>` so `chg-042` is the stored `CHG-42`.
    """
    return change_key_in(_change_key_sources(request))


def change_key_in(texts: Iterable[str]) -> str | None:
    """The first change key (`CHG-42`, `chg-042`) in these texts, as stored: `CHG-42`."""
    for text in texts:
        match = _CHANGE_KEY.search(text)
        if match is not None:
            return f"CHG-{int(match.group(1))}"
    return None


def truncate_comment(comment: str, limit: int = COMMENT_LIMIT) -> str:
    """At most `limit` characters, marking a cut with an ellipsis so nobody reads it as whole."""
    if len(comment) <= limit:
        return comment
    return comment[: limit - 1].rstrip() + "\u2026"


class GitHubApp:
    """A GitHub App acting as a custom deployment protection rule (a DeploymentReviewer).

    `client.base_url` is the API root (https://api.github.com, or https://HOST/api/v3 on GitHub
    Enterprise Server); build it with a timeout and without following redirects. `clock` returns
    an aware datetime; the App never reads the system clock, so tests can move time.
    """

    def __init__(
        self,
        app_id: int | str,
        private_key_pem: bytes,
        client: httpx.Client,
        clock: Callable[[], datetime],
    ) -> None:
        self._app_id = str(app_id).strip()
        if not self._app_id:
            raise ValueError("GitHub App id is empty")
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # `from None`: the parser's context is about the key material; keep it out of logs.
            raise ValueError("GitHub App private key is not an unencrypted PEM key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("GitHub App private key must be RSA: the App JWT is RS256")
        self._key = key
        self._client = client
        self._clock = clock
        self._tokens: dict[int, tuple[str, datetime]] = {}
        # Webhooks are handled on several threads; one lock means concurrent deliveries for an
        # installation share one fresh token instead of each minting its own.
        self._lock = threading.Lock()

    def app_jwt(self) -> str:
        now = self._now()
        claims = {
            "iat": int((now - _JWT_BACKDATE).timestamp()),
            "exp": int((now + _JWT_AHEAD).timestamp()),
            "iss": self._app_id,
        }
        return jwt.encode(claims, self._key, algorithm="RS256")

    def installation_token(self, installation_id: int) -> str:
        """A cached installation token, renewed a minute before GitHub says it expires."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached is not None and self._now() < cached[1] - _TOKEN_MARGIN:
                return cached[0]
            token, expires_at = self._fetch_token(installation_id)
            self._tokens[installation_id] = (token, expires_at)
            return token

    def review(self, request: ProtectionRuleRequest, approved: bool, comment: str) -> None:
        """Approve or reject the waiting job on the run's callback (GitHub answers 204).

        Only the callback's path is used, under our configured API root: a delivery must not
        choose which host receives our token (and GHES and the tests use another host anyway).
        """
        body = {
            "environment_name": request.environment,
            "state": "approved" if approved else "rejected",
            "comment": truncate_comment(comment),
        }
        token = self.installation_token(request.installation_id)
        try:
            self._post(request.callback_path, token, body, expected=204)
        except IntegrationError as exc:
            if exc.status != 401:
                raise
            # A token can die before its expires_at (revoked, App reinstalled, clock skew) and a
            # 401 changed nothing on GitHub's side, so one retry with a fresh token is safe.
            with self._lock:
                if self._tokens.get(request.installation_id, ("",))[0] == token:
                    del self._tokens[request.installation_id]
            fresh = self.installation_token(request.installation_id)
            self._post(request.callback_path, fresh, body, expected=204)

    def _fetch_token(self, installation_id: int) -> tuple[str, datetime]:
        path = f"app/installations/{installation_id}/access_tokens"
        response = self._post(
            path, self.app_jwt(), {"permissions": dict(TOKEN_PERMISSIONS)}, expected=201
        )
        endpoint = f"GitHub POST /{path}"
        try:
            data = response.json()
            token, expires = data["token"], data["expires_at"]
            if not isinstance(token, str) or not token or not isinstance(expires, str):
                raise TypeError
            expires_at = datetime.fromisoformat(expires)
        except (ValueError, TypeError, KeyError):
            raise IntegrationError(endpoint, 201, "no token and expires_at in the body") from None
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)  # GitHub documents UTC timestamps
        return token, expires_at

    def _post(
        self, path: str, credential: str, body: Mapping[str, object], expected: int
    ) -> httpx.Response:
        endpoint = f"GitHub POST /{path}"
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {credential}",
        }
        try:
            response = self._client.post(path, headers=headers, json=body)
        except httpx.TimeoutException:
            # `from None` here and below: httpx errors hold the request, Authorization included.
            raise IntegrationError(endpoint, None, "timed out") from None
        except httpx.HTTPError as exc:
            detail = f"{type(exc).__name__}: {exc}".replace(credential, "[redacted]")
            raise IntegrationError(endpoint, None, detail) from None
        if response.status_code != expected:
            detail = _error_message(response).replace(credential, "[redacted]")
            raise IntegrationError(endpoint, response.status_code, detail)
        return response

    def _now(self) -> datetime:
        now = self._clock()
        if now.utcoffset() is None:
            raise ValueError("the clock must return an aware datetime")
        return now


def _error_message(response: httpx.Response) -> str:
    """GitHub's one-line `message`, or the reason phrase when the body is not GitHub's JSON."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        message = None
    text = message if isinstance(message, str) and message.strip() else response.reason_phrase
    return (text.strip().splitlines() or ["(no message)"])[0][:200]


def _change_key_sources(request: ProtectionRuleRequest) -> Iterator[str]:
    payload = request.deployment_payload
    nested = payload.get("changegate")
    candidates = (
        payload.get("change"),
        nested.get("change") if isinstance(nested, Mapping) else None,
        request.deployment_description,
        request.ref,
        request.head_commit_message,
    )
    yield from (text for text in candidates if isinstance(text, str))


def _callback_target(url: str, repository: str) -> tuple[str, int]:
    """The review path relative to the API root, and the run id, from deployment_callback_url."""
    parts = urlsplit(url)
    match = _CALLBACK.search(parts.path) if parts.scheme in ("http", "https") else None
    # "." and ".." are not names: they would walk the path out of /repos.
    if match is None or "" in (match[1].strip("."), match[2].strip(".")):
        raise BadInput(
            "deployment_callback_url is not a .../repos/{owner}/{repo}/actions/runs/"
            "{run_id}/deployment_protection_rule URL"
        )
    owner, repo, run_id = match.groups()
    if f"{owner}/{repo}".lower() != repository.lower():
        # Our token may act on any repository of the installation: only answer for the one named.
        raise BadInput(f"deployment_callback_url names {owner}/{repo}, not {repository}")
    return f"repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", int(run_id)


def _deployment_payload(value: object) -> Mapping[str, object]:
    # The REST API accepts the deployment payload as an object or as a JSON-encoded string.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return MappingProxyType({})
    return MappingProxyType(dict(value)) if isinstance(value, Mapping) else MappingProxyType({})


def _pull_request_numbers(value: object) -> tuple[int, ...]:
    items = value if isinstance(value, list) else []
    return tuple(
        pr["number"] for pr in items if isinstance(pr, Mapping) and is_int(pr.get("number"))
    )
