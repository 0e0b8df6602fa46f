"""`changegate login --url URL`: a personal API token through the browser; `logout`.

The CLI makes a verifier and sends its SHA-256 with the browser to the server's /auth/cli
page. After signing in (the identity provider) and agreeing, the server hands a one-time code
to this CLI's listener on 127.0.0.1 (or shows it, with --no-browser, to paste here); the CLI
exchanges code and verifier for a token and stores it (credentials.py, mode 0600).
"""

from __future__ import annotations

import secrets
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import typer

from changegate.cli import credentials
from changegate.cli.options import single
from changegate.cli.output import say
from changegate.domain.errors import BadInput
from changegate.services.logins import challenge_of

app = single("Sign in through the browser and store a personal API token.")
logout_app = single("Forget the token `changegate login` stored.")

DONE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>changegate</title></head>
<body><p>The changegate command line is signed in. You can close this tab.</p></body></html>"""


@app.command("login")
def login(
    url: Annotated[
        str, typer.Option("--url", help="The changegate server, e.g. https://cg.example.com")
    ],
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Show a URL to open anywhere; paste the code.")
    ] = False,
    name: Annotated[str, typer.Option("--name", help="What the token is called.")] = "",
    timeout: Annotated[
        int, typer.Option("--timeout", help="Seconds to wait for the browser.")
    ] = 300,
) -> None:
    """Sign in to a changegate server; later commands go to it with the token it gives.

    The token is stored in $XDG_CONFIG_HOME/changegate/credentials.json (mode 0600) and used
    whenever neither CHANGEGATE_URL nor CHANGEGATE_DATABASE_URL is set."""
    base = _base(url)
    verifier = secrets.token_urlsafe(48)
    label = name or f"changegate login ({_host()})"
    if no_browser:
        where = f"{base}/auth/cli?{urlencode({'challenge': challenge_of(verifier)})}"
        say(f"Open this page, sign in, and paste the code it shows:\n  {where}")
        code = typer.prompt("Code", hide_input=False).strip()
    else:
        code = _through_browser(base, challenge_of(verifier), timeout)
    found = _exchange(base, code, verifier, label)
    saved = credentials.save(credentials.Stored(base, found["token"], found["email"]))
    expires = found.get("expires_at") or "never"
    say(f"signed in to {base} as {found['email']} (token expires {expires}); stored in {saved}")


@logout_app.command("logout")
def logout() -> None:
    """Forget the stored token (it stays valid on the server until it expires or is revoked:
    `changegate token revoke`)."""
    say("forgot the stored login" if credentials.forget() else "no stored login")


def _base(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"--url: expected the server's http(s) URL, got {url!r}")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise BadInput(
            f"--url: use https:// (a token would cross the network in clear to {parts.hostname})"
        )
    return url.strip().rstrip("/")


def _host() -> str:
    import socket  # noqa: PLC0415

    return socket.gethostname()[:40]


def _through_browser(base: str, challenge: str, timeout: int) -> str:
    """Listen on 127.0.0.1, open the browser on the consent page, wait for the code."""
    got: dict[str, str] = {}
    arrived = threading.Event()

    class Callback(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            if urlsplit(self.path).path != "/callback" or "code" not in query:
                self.send_error(404)
                return
            got["code"] = query["code"][0]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(DONE)
            arrived.set()

    server = HTTPServer(("127.0.0.1", 0), Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        where = f"{base}/auth/cli?{urlencode({'challenge': challenge, 'port': port})}"
        say(f"Opening your browser to sign in; if it does not open, visit:\n  {where}")
        webbrowser.open(where)
        if not arrived.wait(timeout):
            raise BadInput(f"no sign-in arrived within {timeout} s; run `changegate login` again")
    finally:
        server.shutdown()
        server.server_close()
    return got["code"]


def _exchange(base: str, code: str, verifier: str, name: str) -> dict[str, Any]:
    import httpx  # noqa: PLC0415  (only when logging in)

    from changegate.cli.remote import TIMEOUT, Unreachable, problem  # noqa: PLC0415

    body = {"code": code, "verifier": verifier, "name": name}
    try:
        with httpx.Client(base_url=base, timeout=TIMEOUT, follow_redirects=False) as client:
            answer = client.post("/auth/cli/token", json=body)
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot reach changegate at {base} ({type(exc).__name__})") from None
    if not answer.is_success:
        raise problem(answer)
    try:
        found = answer.json()
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("token"), str):
        raise BadInput(f"the server at {base} answered in a shape this changegate does not read")
    return found
