"""A local AWS Cloud Control API, which moto lacks: AWS JSON 1.0 over HTTP.

botocore sends `POST /` with `Content-Type: application/x-amz-json-1.0` and
`X-Amz-Target: CloudApiService.<Operation>`, a JSON body of the operation's input (`TypeName`,
`Identifier`, `MaxResults`, `NextToken`). Answers follow the Cloud Control API Reference:
GetResource `{TypeName, ResourceDescription: {Identifier, Properties}}` with `Properties` a JSON
*string* of the resource's CloudFormation-schema properties; ListResources
`{TypeName, ResourceDescriptions, NextToken}`; an unknown resource is a 400 whose body names
`ResourceNotFoundException` in `__type`, which botocore turns into a ClientError with that code.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from changegate.sandbox.loopback import reply

PREFIX = "CloudApiService."


class FakeCloudControl:
    def __init__(
        self, resources: dict[tuple[str, str], dict[str, Any]], page_size: int = 100
    ) -> None:
        self.resources = resources  # (type, identifier) -> properties
        self.page_size = page_size
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCloudControl:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        operation = target.removeprefix(PREFIX)
        self.requests.append((operation, body))
        type_name = body.get("TypeName", "")
        if operation == "GetResource":
            key = (type_name, body.get("Identifier", ""))
            if key not in self.resources:
                return 400, {
                    "__type": "ResourceNotFoundException",
                    "Message": f"{type_name} with identifier {key[1]} was not found.",
                }
            return 200, {"TypeName": type_name, "ResourceDescription": self._described(key)}
        if operation == "ListResources":
            keys = sorted(k for k in self.resources if k[0] == type_name)
            start = int(body.get("NextToken") or 0)
            size = min(self.page_size, int(body.get("MaxResults") or self.page_size))
            page = keys[start : start + size]
            more = start + size < len(keys)
            return 200, {
                "TypeName": type_name,
                "ResourceDescriptions": [self._described(k) for k in page],
                **({"NextToken": str(start + size)} if more else {}),
            }
        return 400, {"__type": "UnknownOperationException", "Message": operation}

    def _described(self, key: tuple[str, str]) -> dict[str, str]:
        return {"Identifier": key[1], "Properties": json.dumps(self.resources[key])}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = peer.answer(self.headers.get("X-Amz-Target", ""), body)
                reply(self, status, json.dumps(answer).encode(), "application/x-amz-json-1.0")

            def log_message(self, *args: object) -> None:
                pass

        return Handler
