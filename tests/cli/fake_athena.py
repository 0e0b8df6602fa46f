"""A local Amazon Athena for what moto does not do: queries that FAIL, and results in pages.

It speaks Athena's JSON 1.1 protocol (POST /, `X-Amz-Target: AmazonAthena.<Operation>`, Athena
API reference): GetDatabase, StartQueryExecution, GetQueryExecution (RUNNING once, then the
configured final state and reason) and GetQueryResults (`page_size` rows a page, with
NextToken). Every request is kept in `requests` as (operation, body).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeAthena:
    def __init__(self, state: str = "SUCCEEDED", reason: str = "", page_size: int = 2) -> None:
        self.state, self.reason, self.page_size = state, reason, page_size
        self.columns: list[str] = []
        self.rows: list[list[str | None]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.polls = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeAthena:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append((operation, body))
        if operation == "GetDatabase":
            return {"Database": {"Name": body["DatabaseName"]}}
        if operation == "StartQueryExecution":
            return {"QueryExecutionId": "q-1"}
        if operation == "GetQueryExecution":
            self.polls += 1
            state = "RUNNING" if self.polls == 1 else self.state
            status = {"State": state} | ({"StateChangeReason": self.reason} if self.reason else {})
            return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}}
        if operation == "GetQueryResults":
            return self._page(int(body.get("NextToken", "0")))
        raise KeyError(operation)

    def _page(self, start: int) -> dict[str, Any]:
        everything = [self.columns, *self.rows]  # a SELECT's first row: the column names
        page = everything[start : start + self.page_size]
        out: dict[str, Any] = {
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in page
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [{"Name": c, "Label": c, "Type": "varchar"} for c in self.columns]
                },
            }
        }
        if start + self.page_size < len(everything):
            out["NextToken"] = str(start + self.page_size)
        return out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                try:
                    status, reply = 200, fake.answer(operation, body)
                except KeyError:
                    status, reply = 400, {"__type": "InvalidRequestException", "Message": "no"}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler
