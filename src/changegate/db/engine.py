"""Engine and sessions, built by the composition root from the settings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from changegate.domain.errors import BadInput
from changegate.domain.limits import check_text

READ_ONLY = "changegate_read_only"


def loads(text: str | bytes) -> Any:
    """JSON columns read with orjson (a drift scan decodes two documents per resource: several
    times faster than the standard library), falling back to it for what orjson refuses
    (integers beyond 64 bits, the NaN that `json.dumps` writes)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def build_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", loads)
    # A failed statement's message must not carry its parameters (tokens' hashes, people's
    # text) into logs and error output.
    kwargs.setdefault("hide_parameters", True)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadInput(f"CHANGEGATE_DATABASE_URL is not a database URL: {url!r}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(parsed.render_as_string(hide_password=False), **kwargs)
    if parsed.get_backend_name() != "postgresql":
        backend = parsed.get_backend_name()
        raise BadInput(f"unsupported database {backend!r}; use sqlite or postgresql")
    # Sessions in UTC: psycopg then reads timestamps with the `datetime.UTC` zone itself, which
    # `UTCDateTime` passes through instead of converting every value it reads.
    utc = {} if "options" in parsed.query else {"connect_args": {"options": "-c TimeZone=UTC"}}
    return create_engine(parsed, pool_pre_ping=True, **utc, **kwargs)


def _sqlite(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, begin transactions, so we can begin IMMEDIATE below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # ANALYZE samples each index rather than reading it whole (db/base.Repository.analyse
        # runs after every large write; a whole read of a growing table made ingests quadratic).
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: two that both read first would otherwise
        # deadlock on upgrade and one would fail instead of waiting its turn. Readers don't,
        # so a long `ledger verify` never blocks writers (WAL gives it a stable snapshot).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


def on_postgres(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (else SQLite, the only other one)."""
    return session.get_bind().dialect.name == "postgresql"


def session_factory(engine: Engine, read_only: bool = False) -> sessionmaker[Session]:
    bind = engine
    if read_only:
        # One snapshot for the whole read: `ledger verify` walks the chain and then reads the
        # head; under READ COMMITTED an append in between looked like a deleted record.
        snapshot = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
        bind = engine.execution_options(**{READ_ONLY: True}, **snapshot)
    factory = sessionmaker(bind, expire_on_commit=False)
    event.listen(factory, "before_flush", _refuse_unstorable)
    return factory


def _refuse_unstorable(session: Session, _context: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        check_storable(
            obj.__table__, {c.key: getattr(obj, c.key, None) for c in obj.__table__.columns}
        )


def check_storable(table: Any, values: Mapping[str, Any]) -> None:
    """`values` of a row of `table` checked as domain/limits.check_text checks them: no NUL in
    text, no text longer than its column. The column widths are the one place field limits
    live. Raises BadInput naming the column."""
    check_text(_widths(table), values)


@cache
def _widths(table: Any) -> tuple[tuple[str, int | None], ...]:
    """(key, width or None) of each column, worked out once: every row written is checked (a
    CloudTrail ingest writes thousands a second)."""
    return tuple((c.key, getattr(c.type, "length", None)) for c in table.columns)
