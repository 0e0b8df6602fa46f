"""A local Linear GraphQL API that executes what it is sent against Linear's published schema.

Every request is parsed, validated and executed by graphql-core against the pinned SDL
(linear_schema.graphql beside this module, linear/linear packages/sdk/src/schema.graphql): an
operation that names a field, argument or input Linear does not have, or a variable of the
wrong type, is answered with GraphQL errors as Linear answers it, and noted in `errors` (the
tests fail on any). Only the fields changegate reads are backed by data; the shapes
follow the schema's types (Issue, Team, WorkflowState, IssueLabel, Comment, Attachment).

Documented behaviour it reproduces: `Authorization: <API key>` (401 otherwise); `issue(id)`
accepts a UUID or an identifier (ENG-42) and answers "Entity not found" for neither;
`attachmentCreate` updates the attachment of the same url on the issue; `commentCreate`
with an existing `id` is refused; every answer carries `X-RateLimit-Requests-Limit`,
`-Remaining` and `-Reset` (UNIX ms), and a scripted `ratelimit` answers HTTP 400 with an error
of type `ratelimited` (code RATELIMITED) and Remaining 0. `stop()`/`start()` on the same port
make an outage; `stall_on` holds an answer back after carrying it out (a worker killed mid-send).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, graphql_sync, parse, validate

from changegate.sandbox.loopback import Loopback, reply

SCHEMA_PATH = Path(__file__).with_name("linear_schema.graphql")
API_KEY = "lin_api_test_key"
TEAM_STATES = (
    ("Triage", "triage"),
    ("Backlog", "backlog"),
    ("Todo", "unstarted"),
    ("In Progress", "started"),
    ("In Review", "started"),
    ("Done", "completed"),
    ("Canceled", "canceled"),
)
REQUESTS_LIMIT = 1500


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_PATH.read_text())


def validation_errors(document: str) -> list[str]:
    """What graphql-core finds wrong with `document` against Linear's schema."""
    return [error.message for error in validate(schema(), parse(document))]


class FakeLinear(Loopback):
    def __init__(self, team_key: str = "ENG", port: int = 0) -> None:
        self.team: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "key": team_key,
            "name": "Engineering",
            "states": [
                {"id": str(uuid.uuid4()), "name": name, "type": kind} for name, kind in TEAM_STATES
            ],
            "labels": ["change-request", "exception-request", "bug"],
        }
        self.workspace_labels = ["security"]
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.attachments: dict[tuple[str, str], dict[str, Any]] = {}
        self.operations: list[str] = []  # operationName of each request, in order
        self.documents: set[str] = set()  # every distinct query text received
        self.errors: list[str] = []  # what the peer found wrong with a request
        self.ratelimit = 0  # answer this many next requests as rate limited
        # A kill -9 mid-send: the operation named here is carried out, then its answer waits
        # until `release` is set (`stalled` says it got there).
        self.stall_on: str | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.reset_in_ms = 500
        self._remaining = REQUESTS_LIMIT
        self._lock = threading.Lock()
        self._listen(port)
        self.base = self.url
        self.url = f"{self.url}/graphql"

    def add_issue(
        self,
        title: str,
        description: str,
        creator: str | None,
        labels: tuple[str, ...] = ("change-request",),
        state: str = "Triage",
    ) -> dict[str, Any]:
        number = len(self.issues) + 1
        identifier = f"{self.team['key']}-{number}"
        issue = {
            "id": str(uuid.uuid4()),
            "identifier": identifier,
            "number": number,
            "title": title,
            "description": description,
            "url": f"https://linear.app/acme/issue/{identifier}/change",
            "updatedAt": _now(),
            "creator": {"email": creator} if creator else None,
            "labels": list(labels),
            "stateId": self.state(state)["id"],
        }
        self.issues[issue["id"]] = issue
        return issue

    def edit(self, issue: dict[str, Any], **fields: Any) -> None:
        issue.update(fields, updatedAt=_now())

    def state(self, name: str) -> dict[str, Any]:
        return next(s for s in self.team["states"] if s["name"] == name)

    def state_of(self, issue: dict[str, Any]) -> str:
        return next(str(s["name"]) for s in self.team["states"] if s["id"] == issue["stateId"])

    def comments_on(self, issue: dict[str, Any]) -> list[str]:
        return [c["body"] for c in self.comments.values() if c["issueId"] == issue["id"]]

    def attachments_on(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        return [a for (i, _), a in self.attachments.items() if i == issue["id"]]

    def admin(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        """The sandbox's own door (not Linear's API): `POST /sandbox/issues` files an issue as
        a person would in Linear's app ({title, description, creator, labels}); `GET
        /sandbox/issues/ENG-1` shows its state, comments and attachments."""
        with self._lock:
            if method == "POST" and path == "/sandbox/issues":
                asked = json.loads(raw)
                labels = tuple(asked.get("labels") or ("change-request",))
                made = self.add_issue(
                    asked["title"], asked["description"], asked.get("creator"), labels
                )
                return 200, made
            found = next(
                (i for i in self.issues.values() if path == f"/sandbox/issues/{i['identifier']}"),
                None,
            )
            if method != "GET" or found is None:
                return 404, {"errors": [{"message": f"no issue at {path}"}]}
            return 200, {
                **found,
                "state": self.state_of(found),
                "comments": self.comments_on(found),
                "attachments": self.attachments_on(found),
            }

    def answer(self, headers: Any, raw: bytes) -> tuple[int, dict[str, str], Any]:
        if headers.get("Authorization") != API_KEY:
            return 401, {}, {"errors": [{"message": "Authentication required"}]}
        request = json.loads(raw)
        document, name = request["query"], request.get("operationName")
        with self._lock:
            self.operations.append(name)
            self.documents.add(document)
            problems = validation_errors(document)
            if problems:
                self.errors.append(f"{name}: {problems}")
                return 400, self._budget(), {"errors": [{"message": p} for p in problems]}
            if self.ratelimit > 0:
                self.ratelimit -= 1
                self._remaining = 0
                error = {
                    "message": "Rate limit exceeded",
                    "extensions": {"type": "ratelimited", "code": "RATELIMITED"},
                }
                return 400, self._budget(), {"errors": [error]}
            self._remaining = REQUESTS_LIMIT - 1
            result = graphql_sync(
                schema(),
                document,
                self._root(),
                variable_values=request.get("variables"),
                operation_name=name,
            )
        if name is not None and name == self.stall_on:
            self.stalled.set()
            self.release.wait(120)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_error(e.message) for e in result.errors]
            if any("Variable" in e.message for e in result.errors):
                self.errors.append(f"{name}: {body['errors']}")
        return 200, self._budget(), body

    def _budget(self) -> dict[str, str]:
        reset = int(time.time() * 1000) + self.reset_in_ms
        return {
            "X-RateLimit-Requests-Limit": str(REQUESTS_LIMIT),
            "X-RateLimit-Requests-Remaining": str(self._remaining),
            "X-RateLimit-Requests-Reset": str(reset),
        }

    def _root(self) -> dict[str, Any]:
        return {
            "issue": lambda _info, id: self._node(self._find(id)),
            "issues": self._issues,
            "teams": lambda _info, **_: {"nodes": [self._team()]},
            "issueLabels": lambda _info, **_: {
                "nodes": [{"name": name} for name in self.workspace_labels]
            },
            "comment": lambda _info, **args: self._comment(args["id"]),
            "issueUpdate": self._issue_update,
            "attachmentCreate": self._attachment_create,
            "commentCreate": self._comment_create,
        }

    def _find(self, key: str) -> dict[str, Any]:
        found = self.issues.get(key) or next(
            (i for i in self.issues.values() if i["identifier"] == key), None
        )
        if found is None:
            raise LookupError("Entity not found: Issue")
        return found

    def _team(self) -> dict[str, Any]:
        return {
            "id": self.team["id"],
            "key": self.team["key"],
            "name": self.team["name"],
            "states": {"nodes": self.team["states"]},
            "labels": {"nodes": [{"name": name} for name in self.team["labels"]]},
        }

    def _node(self, issue: dict[str, Any]) -> dict[str, Any]:
        return {
            **{k: issue[k] for k in ("id", "identifier", "title", "description", "url")},
            "updatedAt": issue["updatedAt"],
            "team": self._team(),
            "creator": issue["creator"],
            "state": next(s for s in self.team["states"] if s["id"] == issue["stateId"]),
            "labels": {"nodes": [{"name": name} for name in issue["labels"]]},
        }

    def _issues(self, _info: Any, **args: Any) -> dict[str, Any]:
        wanted = args.get("filter") or {}
        since = wanted.get("updatedAt", {}).get("gte", "")
        names = set(wanted.get("labels", {}).get("name", {}).get("in", []))
        nodes = [
            self._node(i)
            for i in sorted(self.issues.values(), key=lambda i: i["updatedAt"])
            if i["updatedAt"] >= _iso(since) and (not names or names & set(i["labels"]))
        ]
        start = int(args.get("after") or 0)
        page = nodes[start : start + (args.get("first") or 50)]
        more = start + len(page) < len(nodes)
        return {
            "nodes": page,
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + len(page))},
        }

    def _comment(self, comment_id: str) -> dict[str, Any]:
        if comment_id not in self.comments:
            raise LookupError("Entity not found: Comment")
        return {"id": comment_id}

    def _issue_update(self, _info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        issue = self._find(id)
        if "stateId" in input:
            if not any(s["id"] == input["stateId"] for s in self.team["states"]):
                raise LookupError("Entity not found: WorkflowState")
            issue["stateId"] = input["stateId"]
        issue["updatedAt"] = _now()
        return {"success": True}

    def _attachment_create(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue = self._find(input["issueId"])
        key = (issue["id"], input["url"])
        existing = self.attachments.get(key, {"id": str(uuid.uuid4())})
        self.attachments[key] = {**existing, **input, "issueId": issue["id"]}
        return {"success": True, "attachment": {"id": existing["id"]}}

    def _comment_create(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue = self._find(input["issueId"])
        comment_id = input.get("id") or str(uuid.uuid4())
        if comment_id in self.comments:
            raise ValueError("Entity already exists")
        self.comments[comment_id] = {"issueId": issue["id"], "body": input["body"]}
        return {"success": True, "comment": {"id": comment_id}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    if self.path.startswith("/sandbox/"):
                        headers: dict[str, str] = {}
                        status, body = (
                            peer.admin(self.command, self.path, raw)
                            if self.headers.get("Authorization") == API_KEY
                            else (401, {"errors": [{"message": "Authentication required"}]})
                        )
                    else:
                        status, headers, body = peer.answer(self.headers, raw)
                except Exception as exc:  # the peer's own bug: fail the test, not hang it
                    peer.errors.append(f"{type(exc).__name__}: {exc}")
                    status, headers, body = 500, {}, {"errors": [{"message": str(exc)}]}
                reply(self, status, json.dumps(body).encode(), headers=headers)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _error(message: str) -> dict[str, Any]:
    """As Linear reports a refused input: `extensions.type` "invalid input"."""
    return {"message": message, "extensions": {"type": "invalid input", "userError": True}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(text: str) -> str:
    if not text:
        return ""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
