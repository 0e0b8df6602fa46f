"""A local CloudFormation for drift detection, which moto lacks: the AWS Query protocol over HTTP.

Requests are form-encoded POSTs (`Action=DetectStackDrift&Version=2010-05-15&...`), as botocore
sends them; responses are the XML CloudFormation returns (`<{Action}Response>` wrapping
`<{Action}Result>`, lists as `<member>` elements), which botocore parses itself. The bodies replay
AWS's documented examples from shared/data/cloudformation/drift-aws-docs:

- DetectStackDrift returns the documented StackDriftDetectionId.
- DescribeStackDriftDetectionStatus answers DETECTION_IN_PROGRESS `in_progress_polls` times, then
  the documented DETECTION_COMPLETE status.
- DescribeStackResourceDrifts pages the drifts `page_size` at a time with a NextToken.
Unknown actions and stacks get CloudFormation's XML error body with a 400.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from tests.fixtures import fixture

DRIFT_DOCS = fixture("cloudformation", "drift-aws-docs")
NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


def documented(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DRIFT_DOCS / name).read_text())
    return data


def to_xml(value: object) -> str:
    if isinstance(value, Mapping):
        return "".join(f"<{k}>{to_xml(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<member>{to_xml(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


class FakeCloudFormation:
    def __init__(
        self,
        drifts: list[dict[str, Any]] | None = None,
        *,
        in_progress_polls: int = 1,
        page_size: int = 100,
    ) -> None:
        self.detection = documented("detect-drift-stack__01__detect-stack-drift.json")
        self.status = documented(
            "detect-drift-stack__02__describe-stack-drift-detection-status.json"
        )
        self.drifts = (
            drifts
            if drifts is not None
            else documented("detect-drift-stack__03__describe-stack-resource-drifts.json")[
                "StackResourceDrifts"
            ]
        )
        self.in_progress_polls = in_progress_polls
        self.page_size = page_size
        self.requests: list[dict[str, str]] = []
        self.errors: list[str] = []
        self._polls = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCloudFormation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, params: dict[str, str]) -> tuple[int, str]:
        action = params.get("Action", "")
        stack_arn = self.status["StackId"]
        known = {stack_arn, stack_arn.split("/")[1]}
        if action == "DetectStackDrift":
            if params.get("StackName") not in known:
                return 400, self._error("ValidationError", "Stack does not exist")
            return 200, self._ok(action, self.detection)
        if action == "DescribeStackDriftDetectionStatus":
            if params.get("StackDriftDetectionId") != self.detection["StackDriftDetectionId"]:
                return 400, self._error("ValidationError", "Unknown drift detection id")
            self._polls += 1
            if self._polls <= self.in_progress_polls:
                return 200, self._ok(
                    action,
                    {
                        **self.status,
                        "StackDriftStatus": "UNKNOWN",
                        "DetectionStatus": "DETECTION_IN_PROGRESS",
                        "DriftedStackResourceCount": None,
                    },
                )
            return 200, self._ok(action, self.status)
        if action == "DescribeStackResourceDrifts":
            if params.get("StackName") not in known:
                return 400, self._error("ValidationError", "Stack does not exist")
            start = int(params.get("NextToken", "0"))
            end = start + self.page_size
            body: dict[str, object] = {"StackResourceDrifts": self.drifts[start:end]}
            if end < len(self.drifts):
                body["NextToken"] = str(end)
            return 200, self._ok(action, body)
        return 400, self._error("InvalidAction", f"Could not find operation {action}")

    def _ok(self, action: str, result: Mapping[str, object]) -> str:
        return (
            f'<{action}Response xmlns="{NS}"><{action}Result>{to_xml(result)}</{action}Result>'
            f"<ResponseMetadata><RequestId>fake-{len(self.requests)}</RequestId>"
            f"</ResponseMetadata></{action}Response>"
        )

    def _error(self, code: str, message: str) -> str:
        return (
            f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>fake</RequestId>"
            "</ErrorResponse>"
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                    params = {k: v[0] for k, v in form.items()}
                    fake.requests.append(params)
                    status, body = fake.answer(params)
                except Exception as exc:  # recorded so the test fails loudly, not the thread
                    fake.errors.append(repr(exc))
                    status, body = 500, fake._error("InternalFailure", "fake failed")
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
