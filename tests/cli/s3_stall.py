"""A loopback HTTP proxy in front of moto's server that can stall one S3 GetObject half-way.

It forwards every request as it came and streams the answer back. With `stall_on` set to N, the
Nth GetObject gets its headers and the first `stall_after` bytes of its body, then nothing: the
client is left reading a file mid-way, which is where the tests kill it.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class StallingProxy:
    def __init__(self, upstream: str, stall_on: int | None = None, stall_after: int = 0) -> None:
        self.upstream = urlsplit(upstream)
        self.stall_on = stall_on
        self.stall_after = stall_after
        self.gets = 0
        self.stalled = threading.Event()  # set when the stalled answer is half sent
        self.release = threading.Event()  # set to let the stalled handler end
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StallingProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _stall_now(self, method: str, path: str) -> bool:
        # A GetObject is a GET of /bucket/key (path style) without a query.
        if method != "GET" or "?" in path or path.count("/") < 2 or self.stall_on is None:
            return False
        with self._lock:
            self.gets += 1
            return self.gets == self.stall_on

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if proxy._stall_now(self.command, self.path):
                    self.wfile.write(data[: proxy.stall_after])
                    self.wfile.flush()
                    proxy.stalled.set()
                    proxy.release.wait()
                    return
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        return Handler
