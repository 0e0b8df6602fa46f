"""`changegate serve`: the REST API over the configured database."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from changegate.bootstrap import App
from changegate.cli import runtime, transport
from changegate.cli.options import single
from changegate.cli.output import say
from changegate.domain.errors import BadInput

app = single("Serve the REST API (OpenAPI at /docs).")
Host = Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")]
Port = Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="TCP port.")]


def listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything else happens, and keep it: a port in use is reported
    before the database is touched, and nobody can take it between the check and the serve."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(
                f"port {port} on {host} is already in use; choose another with "
                "--port (make demo PORT=8001)"
            ) from None
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def run_server(app: App, sock: socket.socket, host: str, port: int) -> None:
    # Imported here: the web stack costs every other command startup time it does not need.
    import uvicorn  # noqa: PLC0415

    from changegate.api.app import create_app  # noqa: PLC0415

    say(
        f"changegate API on http://{host}:{port}  (OpenAPI docs: http://{host}:{port}/docs; "
        "Ctrl-C stops it)"
    )
    # One access line per request (uvicorn's access log), so an operator sees every call.
    config = uvicorn.Config(create_app(app), log_level="info", access_log=True)
    uvicorn.Server(config).run(sockets=[sock])


@app.command("serve")
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the REST API (OpenAPI at /docs) on the configured database."""
    transport.local_only("serve")
    sock = listen(host, port)
    with sock, runtime.app() as cg:
        run_server(cg, sock, host, port)
