"""What every local protocol peer shares: a threaded HTTP server on 127.0.0.1 that a test
stops and starts again on the same port (an outage), used as a context manager."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class Loopback:
    """Subclasses answer through `_handler()`, call `_listen()` at the end of `__init__`, and
    may wrap the socket (TLS) in `_wrap`; `url` is `scheme://127.0.0.1:port`."""

    scheme = "http"

    def _listen(self, port: int = 0) -> None:
        self._server: ThreadingHTTPServer | None = self._bind(port)
        self.port: int = self._server.server_address[1]
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._server is None:
            self._server = self._bind(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _bind(self, port: int) -> ThreadingHTTPServer:
        ThreadingHTTPServer.allow_reuse_address = True
        return self._wrap(ThreadingHTTPServer(("127.0.0.1", port), self._handler()))

    def _wrap(self, server: ThreadingHTTPServer) -> ThreadingHTTPServer:
        return server

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError


def reply(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> None:
    """Write one whole answer: status, content type, any extra headers, length, body."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
