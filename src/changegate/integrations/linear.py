"""Linear adapter: webhook verification and the GraphQL operations changegate sends.

What this relies on, and where Linear documents it:

- Endpoint `https://api.linear.app/graphql`, POST `{"query", "variables", "operationName"}`.
  A personal API key is sent as `Authorization: <KEY>`, an OAuth token as `Authorization:
  Bearer <TOKEN>`. https://linear.app/developers/graphql
- Errors come back as `{"errors": [{"message", "extensions": {"type", "code",
  "userPresentableMessage"}}]}`, with HTTP 200 or 400; a rate-limited request has type
  `ratelimited` (code `RATELIMITED`) and may be HTTP 429. Every answer carries
  `X-RateLimit-Requests-Remaining` and `X-RateLimit-Requests-Reset` (UNIX ms) and the same for
  `Complexity`; `Retry-After` in seconds when limited (packages/sdk/src/error.ts, linear/linear).
  https://linear.app/developers/rate-limiting
- Webhooks: `Linear-Signature` is the hex HMAC-SHA256 of the raw body under the webhook's
  secret, compared in constant time; the body's `webhookTimestamp` (UNIX ms; the
  `Linear-Timestamp` header when the body has none) must be within 60 s of now, as Linear's
  SDK checks (packages/sdk/src/webhooks/client.ts). `Linear-Delivery` names the delivery.
  https://linear.app/developers/webhooks
- `attachmentCreate`: the attachment's `url` is unique per issue, so sending it again updates
  the one attachment. `commentCreate` takes the comment's `id` (a UUID v4): we derive it from
  what the comment reports, so a comment sent again after a lost answer is found, not doubled.

Every operation is in OPERATIONS; the tests validate each against Linear's published schema
(src/changegate/sandbox/linear_schema.graphql).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import httpx

from changegate.domain.errors import BadInput
from changegate.integrations.linear_ports import (
    LinearAttachment,
    LinearIssueData,
    LinearState,
    LinearTeam,
    LinearWorkspace,
)
from changegate.integrations.payload import Fields, mapping, optional_str
from changegate.integrations.ports import IntegrationError
from changegate.integrations.times import aws_time

WINDOW_MS: Final = 60_000
# A rate limit that resets sooner than this is waited out; a longer one fails the call with
# 429 so that the outbox (or the operator running `linear sync`) comes back later.
LONGEST_WAIT: Final = 60.0
ATTEMPTS: Final = 3
PAGE: Final = 50
_FIELDS: Final = Fields("Linear issue")
_MISSING: Final = ("entity not found", "invalid input")  # how Linear says "no such id"

_ISSUE: Final = """
fragment IssueFields on Issue {
  id identifier title description url updatedAt
  team { id key states { nodes { id name type } } }
  creator { email }
  state { id name type }
  labels { nodes { name } }
}"""

OPERATIONS: Final[Mapping[str, str]] = {
    "Issue": "query Issue($id: String!) { issue(id: $id) { ...IssueFields } }" + _ISSUE,
    "Issues": (
        "query Issues($filter: IssueFilter, $after: String, $first: Int) {"
        " issues(filter: $filter, after: $after, first: $first, orderBy: updatedAt) {"
        " nodes { ...IssueFields } pageInfo { hasNextPage endCursor } } }" + _ISSUE
    ),
    "Workspace": (
        "query Workspace { teams(first: 250) { nodes { id key name"
        " states { nodes { id name type } } labels(first: 250) { nodes { name } } } }"
        " issueLabels(first: 250, filter: { team: { null: true } }) { nodes { name } } }"
    ),
    "SetState": (
        "mutation SetState($id: String!, $stateId: String!) {"
        " issueUpdate(id: $id, input: { stateId: $stateId }) { success } }"
    ),
    "Attach": (
        "mutation Attach($input: AttachmentCreateInput!) {"
        " attachmentCreate(input: $input) { success attachment { id } } }"
    ),
    "Comment": (
        "mutation Comment($input: CommentCreateInput!) {"
        " commentCreate(input: $input) { success comment { id } } }"
    ),
    "CommentExists": "query CommentExists($id: String!) { comment(id: $id) { id } }",
}


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only if `header` is the hex HMAC-SHA256 of the raw `body` under `secret`."""
    if not secret or not header:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def timestamp_ms(payload: Mapping[str, Any], header: str | None) -> int | None:
    """The delivery's `webhookTimestamp` (the body's, else the Linear-Timestamp header's)."""
    value = payload.get("webhookTimestamp")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if header and header.strip().isdigit():
        return int(header.strip())
    return None


def fresh(stamp_ms: int | None, now: datetime) -> bool:
    """Within a minute of `now` either way, as Linear's own SDK accepts."""
    return stamp_ms is not None and abs(now.timestamp() * 1000 - stamp_ms) <= WINDOW_MS


def hinted_issue(payload: Mapping[str, Any]) -> str | None:
    """The issue a delivery is about: an Issue's own id, or the issueId of a comment, an
    attachment or a label change on one. None: not about an issue (a project, a cycle)."""
    kind, data = payload.get("type"), mapping(payload, "data")
    if kind == "Issue":
        return optional_str(data, "id")
    return optional_str(data, "issueId")


class LinearGraphQL:
    """Linear's GraphQL API over an httpx client (`client.base_url` unused: `url` is posted to).

    `sleep` and `clock` (seconds since the epoch) are injected so tests can see the back-off
    without waiting; the client should not follow redirects (the credential must go only to
    the configured endpoint)."""

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        authorization: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._url = url
        self._authorization = authorization
        self._sleep = sleep
        self._clock = clock
        self._resume_at = 0.0  # when the request budget refills, once it ran out
        self.waited = 0.0  # seconds spent waiting for rate limits (reported by `linear sync`)

    def issue(self, issue_id: str) -> LinearIssueData | None:
        data = self.execute("Issue", {"id": issue_id}, missing_ok=True)
        node = data.get("issue")
        return issue_from(node) if isinstance(node, Mapping) else None

    def issues_since(
        self, since: datetime, labels: Sequence[str], teams: Sequence[str]
    ) -> Iterator[LinearIssueData]:
        wanted: dict[str, Any] = {
            "updatedAt": {"gte": since.isoformat()},
            "labels": {"name": {"in": list(labels)}},
        }
        if teams:
            wanted["team"] = {"key": {"in": list(teams)}}
        after: str | None = None
        while True:
            variables = {"filter": wanted, "after": after, "first": PAGE}
            page = mapping(self.execute("Issues", variables), "issues")
            for node in page.get("nodes") or []:
                yield issue_from(node)
            info = mapping(page, "pageInfo")
            after = optional_str(info, "endCursor")
            if not info.get("hasNextPage") or after is None:
                return

    def workspace(self) -> LinearWorkspace:
        data = self.execute("Workspace", {})
        teams = tuple(
            LinearTeam(
                team["id"],
                team["key"],
                team["name"],
                _states(team),
                tuple(label["name"] for label in mapping(team, "labels").get("nodes") or []),
            )
            for team in mapping(data, "teams").get("nodes") or []
        )
        labels = tuple(label["name"] for label in mapping(data, "issueLabels").get("nodes") or [])
        return LinearWorkspace(teams, labels)

    def set_state(self, issue_id: str, state_id: str) -> None:
        self._succeeded("SetState", {"id": issue_id, "stateId": state_id}, "issueUpdate")

    def attach(self, issue_id: str, attachment: LinearAttachment) -> None:
        variables = {
            "input": {
                "issueId": issue_id,
                "url": attachment.url,
                "title": attachment.title,
                "subtitle": attachment.subtitle,
                "metadata": dict(attachment.metadata),
            }
        }
        self._succeeded("Attach", variables, "attachmentCreate")

    def comment(self, issue_id: str, comment_id: str, body: str) -> bool:
        variables = {"input": {"id": comment_id, "issueId": issue_id, "body": body}}
        try:
            self._succeeded("Comment", variables, "commentCreate")
        except IntegrationError as exc:
            if exc.status is None or exc.status == 429:
                raise
            # Refused: perhaps because a copy sent before the answer was lost already exists.
            found = self.execute("CommentExists", {"id": comment_id}, missing_ok=True)
            if not isinstance(found.get("comment"), Mapping):
                raise
            return False
        return True

    def _succeeded(self, operation: str, variables: Mapping[str, Any], field: str) -> None:
        if not mapping(self.execute(operation, variables), field).get("success"):
            raise IntegrationError(f"Linear {operation}", 200, f"{field} did not succeed")

    def execute(
        self, operation: str, variables: Mapping[str, Any], missing_ok: bool = False
    ) -> Mapping[str, Any]:
        """`data` of one operation; empty if `missing_ok` and Linear says the entity is not
        there. Waits out a short rate limit (at most ATTEMPTS tries); raises IntegrationError."""
        endpoint = f"Linear {operation}"
        body = {"query": OPERATIONS[operation], "variables": dict(variables)}
        body["operationName"] = operation
        for attempt in range(ATTEMPTS):
            self._wait(endpoint)
            response = self._post(endpoint, body)
            self._note_budget(response)
            errors, data = _answer(endpoint, response)
            if not errors:
                return data
            limited = response.status_code == 429 or any(_kind(e) == "ratelimited" for e in errors)
            if limited and attempt < ATTEMPTS - 1:
                self._resume_at = max(self._resume_at, self._retry_at(response))
                continue
            if limited:
                raise IntegrationError(endpoint, 429, "rate limited")
            if missing_ok and all(_kind(e) in _MISSING for e in errors):
                return {}
            status = response.status_code if response.status_code != 200 else 400
            raise IntegrationError(endpoint, status, _message(errors[0]))
        raise AssertionError("unreachable")

    def _post(self, endpoint: str, body: Mapping[str, Any]) -> httpx.Response:
        headers = {"Authorization": self._authorization, "Content-Type": "application/json"}
        try:
            return self._client.post(self._url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise IntegrationError(endpoint, None, "timed out") from None
        except httpx.HTTPError as exc:
            # `from None`: httpx errors hold the request, Authorization included.
            detail = f"{type(exc).__name__}: {exc}".replace(self._authorization, "[redacted]")
            raise IntegrationError(endpoint, None, detail) from None

    def _wait(self, endpoint: str) -> None:
        pause = self._resume_at - self._clock()
        if pause <= 0:
            return
        if pause > LONGEST_WAIT:
            raise IntegrationError(endpoint, 429, f"rate limited for {pause:.0f} s more")
        self._sleep(pause)
        self.waited += pause

    def _note_budget(self, response: httpx.Response) -> None:
        for kind in ("Requests", "Complexity"):
            remaining = _number(response.headers.get(f"X-RateLimit-{kind}-Remaining"))
            reset = _number(response.headers.get(f"X-RateLimit-{kind}-Reset"))
            if remaining is not None and remaining <= 0 and reset is not None:
                self._resume_at = max(self._resume_at, reset / 1000)

    def _retry_at(self, response: httpx.Response) -> float:
        after = _number(response.headers.get("Retry-After"))
        if after is not None:
            return self._clock() + after
        reset = _number(response.headers.get("X-RateLimit-Requests-Reset"))
        return reset / 1000 if reset is not None else self._clock() + 1.0


def issue_from(node: Mapping[str, Any]) -> LinearIssueData:
    """An `IssueFields` node as LinearIssueData; BadInput names the first missing field."""
    team = mapping(node, "team")
    state = mapping(node, "state")
    return LinearIssueData(
        id=_FIELDS.text(node, "id"),
        identifier=_FIELDS.text(node, "identifier"),
        title=_FIELDS.text(node, "title"),
        description=optional_str(node, "description") or "",
        url=_FIELDS.text(node, "url"),
        updated_at=aws_time(node.get("updatedAt"), "Linear issue", "updatedAt"),
        team_key=_FIELDS.text(team, "key", "team.key"),
        creator_email=optional_str(mapping(node, "creator"), "email"),
        labels=tuple(
            label["name"]
            for label in mapping(node, "labels").get("nodes") or []
            if isinstance(label, Mapping) and isinstance(label.get("name"), str)
        ),
        state=LinearState(state["id"], state["name"], state.get("type", "")) if state else None,
        team_states=_states(team),
    )


def _states(team: Mapping[str, Any]) -> tuple[LinearState, ...]:
    return tuple(
        LinearState(s["id"], s["name"], s.get("type", ""))
        for s in mapping(team, "states").get("nodes") or []
    )


def _answer(
    endpoint: str, response: httpx.Response
) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        if response.status_code == 429:
            return [{"extensions": {"type": "ratelimited"}}], {}
        raise IntegrationError(endpoint, response.status_code, "the answer is not GraphQL JSON")
    errors = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
    if response.status_code >= 400 and not errors:
        errors = [{"message": response.reason_phrase}]
    return errors, mapping(body, "data")


def _kind(error: Mapping[str, Any]) -> str:
    extensions = mapping(error, "extensions")
    kind = optional_str(extensions, "type") or optional_str(extensions, "code") or ""
    return kind.lower().replace("_", " ")


def _message(error: Mapping[str, Any]) -> str:
    extensions = mapping(error, "extensions")
    text = optional_str(extensions, "userPresentableMessage") or optional_str(error, "message")
    return (text or "(no message)").strip().splitlines()[0][:200]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def check_identifier(text: str) -> str:
    """An issue id or identifier as `linear` commands take it (UUID, or TEAM-123)."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 64 or any(c.isspace() for c in cleaned):
        raise BadInput(f"not a Linear issue id or identifier: {text[:40]!r}")
    return cleaned
