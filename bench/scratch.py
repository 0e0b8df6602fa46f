"""Scratch databases for the benchmarks: a SQLite file in a temporary folder, or a PostgreSQL
database created beside the given one and dropped afterwards (only CREATE/DROP DATABASE touch
the server's other databases)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def sqlite_db(name: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as tmp:
        yield f"sqlite:///{Path(tmp) / f'{name}.db'}"


@contextmanager
def postgres_db(name: str, admin_url: str = PG_URL, keep: bool = False) -> Iterator[str]:
    admin = make_url(admin_url)
    if admin.database == name:
        raise SystemExit(f"the PostgreSQL URL must not name the scratch database {name} itself")
    server = create_engine(admin, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with server.connect() as conn:
        conn.execute(drop)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with server.connect() as conn:
                conn.execute(drop)
        server.dispose()


@contextmanager
def database(kind: str, name: str, admin_url: str = PG_URL, keep: bool = False) -> Iterator[str]:
    """`kind` is "sqlite" or "postgresql"."""
    if kind == "sqlite":
        with sqlite_db(name) as url:
            yield url
    else:
        with postgres_db(name, admin_url, keep) as url:
            yield url
