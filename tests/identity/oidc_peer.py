"""A small OpenID provider that speaks the documented protocol and issues the ID tokens a
test asks for: wrong audience, expired, another nonce, another issuer, a foreign signature.

oidc-provider-mock issues only well-formed tokens; this peer serves the same endpoints
(OpenID Connect Discovery 1.0 section 4, Core 1.0 sections 3.1.2 and 3.1.3, RFC 7636) and
checks what a provider checks of the relying party: the client's credentials, the redirect
URI, and the PKCE verifier against the challenge."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "changegate-test"
CLIENT_SECRET = "peer-secret"


@dataclass
class Peer:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    # Claims to put in (or override in) the next ID token; `None` values are removed.
    claims: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None  # a key the JWKS does not publish
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def id_token(self, grant: dict[str, str]) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "email": grant["sub"],
            "email_verified": True,
        } | self.claims
        body = {k: v for k, v in body.items() if v is not None}
        key = self.sign_with or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, body, key)


def _handler(peer: Peer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, _discovery(peer.issuer))
            elif url.path == "/jwks":
                self._json(200, {"keys": [peer.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                self._authorize({k: v[0] for k, v in parse_qs(url.query).items()})
            else:
                self._json(404, {"error": "not_found"})

        def _authorize(self, query: dict[str, str]) -> None:
            # Who signs in is named by the test as `login_hint` (no login form here).
            code = secrets.token_urlsafe(16)
            peer.codes[code] = {
                "sub": query.get("login_hint", "alice@example.com"),
                "nonce": query.get("nonce", ""),
                "challenge": query.get("code_challenge", ""),
                "redirect_uri": query.get("redirect_uri", ""),
            }
            back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            self.send_response(302)
            self.send_header("Location", back)
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._json(*_token(peer, form, self.headers.get("Authorization", "")))

    return Handler


def _token(peer: Peer, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
    """The token endpoint: client_secret_basic, the code once, its redirect URI, PKCE S256."""
    peer.token_requests.append(form)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    if authorization != f"Basic {basic}":
        return 401, {"error": "invalid_client"}
    grant = peer.codes.pop(form.get("code", ""), None)
    if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
        return 400, {"error": "invalid_grant"}
    verifier = form.get("code_verifier", "").encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
    if digest.decode() != grant["challenge"]:
        return 400, {"error": "invalid_grant"}
    access = secrets.token_urlsafe(16)
    body = {"access_token": access, "token_type": "Bearer", "expires_in": 300}
    return 200, body | {"id_token": peer.id_token(grant)}


def _discovery(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }


@contextmanager
def running() -> Iterator[Peer]:
    peer = Peer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(peer))
    peer.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
