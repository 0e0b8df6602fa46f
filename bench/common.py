"""What the benchmarks share: logging, checks, peak RSS, and scratch databases (a SQLite file
in a temporary folder, or a PostgreSQL database created beside the given one and dropped
afterwards; only CREATE/DROP DATABASE touch the server's other databases)."""

from __future__ import annotations

import contextlib
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# The benchmarks decide in-process, which the built-in policy refuses (identity.local_decisions).
POLICY = Path(__file__).resolve().parent / "bench-policy.yaml"
# Statistics and a checkpoint before timing, so the first timed query does not pay for them.
SETTLE = {"postgresql": ("VACUUM ANALYZE", "CHECKPOINT"), "sqlite": ("ANALYZE",)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"BENCHMARK FAILED: {message}")


def rss_mb() -> float:
    """This process's peak resident set so far, MB: Linux's VmHWM, which starts afresh when a
    process execs. Not ru_maxrss where VmHWM is there: a process started by fork and exec (a
    spawned child, a subprocess) keeps in it the parent's peak from before the exec."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
