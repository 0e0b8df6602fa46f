"""`changegate serve`: the REST API over the configured database."""

from __future__ import annotations

from typing import Annotated

import typer

from changegate.bootstrap import App
from changegate.cli import runtime
from changegate.cli.output import say

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]


def run_server(app: App, host: str, port: int) -> None:
    # Imported here: the web stack costs every other command startup time it does not need.
    import uvicorn  # noqa: PLC0415

    from changegate.api.app import create_app  # noqa: PLC0415

    say(
        f"changegate API on http://{host}:{port}  (OpenAPI docs: http://{host}:{port}/docs; "
        "Ctrl-C stops it)"
    )
    uvicorn.run(create_app(app), host=host, port=port, log_level="warning")


def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the REST API (OpenAPI at /docs)."""
    with runtime.app() as cg:
        run_server(cg, host, port)
