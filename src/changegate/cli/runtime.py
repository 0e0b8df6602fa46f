"""Per-invocation wiring: each command builds the app from the environment when it runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from changegate import bootstrap
from changegate.bootstrap import App
from changegate.config import Settings

LOCAL_ADMIN = "local-admin"


@contextmanager
def app(require_schema: bool = True) -> Iterator[App]:
    built = bootstrap.build(Settings.from_env(), require_schema=require_schema)
    try:
        yield built
    finally:
        built.engine.dispose()
