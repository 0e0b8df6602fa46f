"""moto's server over real HTTP, as the AWS tests use it (one place starts and stops it)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def moto_server(reset: bool = False) -> Iterator[str]:
    """A moto server on 127.0.0.1; its base URL. `reset`: start from empty services (moto
    keeps its state per process, not per server)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        if reset:
            urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        yield url
    finally:
        server.stop()


def use_aws(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """boto3's standard environment pointed at `url`, with test credentials."""
    for name, value in {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
