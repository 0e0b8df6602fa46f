"""Local peers for the notification adapters, over real sockets.

- FakeRelay: an SMTP server (aiosmtpd) that records every accepted message. It can be stopped
  and started again on the same port (a relay's restart), refuse recipients (550), require
  AUTH, and offer STARTTLS with a throwaway self-signed certificate.
- FakeSlack: an incoming webhook (http.server) that answers as Slack documents: 200 `ok`, or
  a scripted status with Slack's plain-text error body (400 invalid_payload, 500 rollup_error,
  ...). It can also answer with a redirect, to show that the adapter does not follow one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLACK_ERRORS = {
    400: "invalid_payload",
    403: "action_prohibited",
    404: "channel_not_found",
    410: "channel_is_archived",
    500: "rollup_error",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    tls: bool
    login: str | None


class _Handler:
    def __init__(self, relay: FakeRelay) -> None:
        self.relay = relay

    async def handle_RCPT(
        self,
        server: SMTPProtocol,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.relay.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPProtocol, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.relay.lock:
            self.relay.received.append(
                Received(
                    str(envelope.mail_from),
                    tuple(envelope.rcpt_tos),
                    message,
                    session.ssl is not None,
                    login,
                )
            )
        return "250 2.0.0 Ok: queued"


class FakeRelay:
    """`with FakeRelay() as relay:`; `relay.port`, `relay.received`, `stop()`/`start()`."""

    def __init__(
        self,
        port: int | None = None,
        credentials: tuple[str, str] | None = None,
        starttls: ssl.SSLContext | None = None,
    ) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self._credentials = credentials
        self._starttls = starttls
        self._controller: Controller | None = None

    def _authenticate(
        self,
        server: SMTPProtocol,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self) -> FakeRelay:
        kwargs: dict[str, Any] = {}
        if self._credentials:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=bool(self._starttls))
        if self._starttls:
            kwargs.update(tls_context=self._starttls, require_starttls=True)
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=5.0, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(r.message["Message-ID"]) for r in self.received)

    def subjects(self) -> Counter[str]:
        with self.lock:
            return Counter(str(r.message["Subject"]) for r in self.received)

    def __enter__(self) -> FakeRelay:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only this certificate) for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-relay.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "relay.pem", directory / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


@dataclass(frozen=True)
class Post:
    path: str
    content_type: str
    body: dict[str, Any]


class FakeSlack:
    """`with FakeSlack() as slack:`; POST `slack.webhook_url`; `slack.posts`; `fail_next`."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.requests = 0
        self.path = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
        self._failures: list[int] = []
        self._redirect: str | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _slack_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        host, port = self._server.server_address[:2]
        self.webhook_url = f"http://{host!s}:{port}{self.path}"

    def fail_next(self, count: int, status: int) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def redirect_to(self, location: str) -> None:
        self._redirect = location

    def echo_next(self) -> None:
        """Answer the next post as a misconfigured gateway does: a 502 page quoting the URL."""
        with self._lock:
            self._echo = True

    def texts(self) -> list[str]:
        with self._lock:
            return [str(p.body.get("text")) for p in self.posts]

    def answer(self, path: str, content_type: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.requests += 1
            failure = self._failures.pop(0) if self._failures else None
        if self._redirect:
            return 302, b"", {"Location": self._redirect}
        with self._lock:
            echo, self._echo = getattr(self, "_echo", False), False
        if echo:
            page = f"<h1>502 Bad Gateway</h1> upstream timed out for POST {path}"
            return 502, page.encode(), {}
        if path != self.path:
            return 404, b"no_service", {}
        if failure is not None:
            return failure, SLACK_ERRORS.get(failure, "error").encode(), {}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, b"invalid_payload", {}
        if not isinstance(body, dict) or not body.get("text"):
            return 400, b"no_text", {}
        with self._lock:
            self.posts.append(Post(path, content_type, body))
        return 200, b"ok", {}

    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _slack_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body, headers = fake.answer(
                self.path, self.headers.get("Content-Type", ""), raw
            )
            self.send_response(status)
            self.send_header("Content-Type", "text/html")  # what Slack sends for "ok"
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
