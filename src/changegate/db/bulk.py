"""Many rows into one table at once, for the one hot path that writes thousands of rows a
second (a CloudTrail ingest), where SQLAlchemy's per-row parameter handling cost more than the
insert itself (bench/trail_bench.py).

SQLite: the driver's own executemany, the statement compiled once per table and dialect, the
columns' bind processors (e.g. db/types.UTCDateTime) applied to each row: the values SQLAlchemy
would have sent. PostgreSQL: the rows copied in binary (COPY) into a temporary table, then one
INSERT ... SELECT from it, so the server does the per-row work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect

SQLITE_ROWS = 1_000  # rows a SQLite executemany inserts (bench/trail_bench.py)


@dataclass(frozen=True)
class _Prepared:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


def insert_many(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], prefix: str = ""
) -> None:
    """INSERT `rows` (each maps every column of `table` by key) in one executemany. `prefix`
    goes after INSERT (e.g. "OR IGNORE"). Only for a driver with positional parameters
    (SQLite's qmark); raises ValueError for another, KeyError for a row missing a column."""
    prepared = _prepare(table, connection.dialect, prefix)
    values = itemgetter(*prepared.keys)
    processed = [(i, p) for i, p in enumerate(prepared.processors) if p is not None]
    params = []
    # The same object given again (the transaction's instant, on every row) is processed once.
    last: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        one = list(values(row))
        for i, process in processed:
            if (value := one[i]) is not None:
                seen = last.get(i)
                if seen is None or seen[0] is not value:
                    last[i] = seen = (value, process(value))
                one[i] = seen[1]
        params.append(tuple(one))
    connection.exec_driver_sql(prepared.sql, params)


@cache
def _prepare(table: Table, dialect: Dialect, prefix: str) -> _Prepared:
    if dialect.paramstyle != "qmark":
        raise ValueError(f"insert_many needs qmark parameters, not {dialect.paramstyle}")
    stmt = insert(table).prefix_with(prefix) if prefix else insert(table)
    compiled = stmt.compile(dialect=dialect, column_keys=[c.key for c in table.columns])
    keys = tuple(compiled.positiontup or ())
    processors = tuple(
        table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys
    )
    return _Prepared(str(compiled), keys, processors)


def insert_new(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], key: str
) -> set[Any]:
    """INSERT `rows` (each maps every column by key) whose `key` (a unique column) is not
    stored yet; the keys it stored. A key repeated among `rows` is stored once, the first."""
    fresh: dict[Any, Mapping[str, Any]] = {}
    for row in rows:
        fresh.setdefault(row[key], row)
    if connection.dialect.name == "postgresql":
        return _insert_new_postgres(connection, table, fresh, key)
    return _insert_new_serialised(connection, table, fresh, key)


def _insert_new_serialised(
    connection: Connection, table: Table, fresh: dict[Any, Mapping[str, Any]], key: str
) -> set[Any]:
    """SQLite: which keys are stored already, then one executemany of the others. A SQLite
    writer holds the write lock from BEGIN IMMEDIATE (db/engine.py), so nothing is stored in
    between; OR IGNORE all the same. SQLAlchemy's multi-row INSERT ... RETURNING, and its
    executemany, cost several times this (bench/trail_bench.py). `fresh`: the rows by key,
    emptied of those stored already."""
    # One statement whatever the number of keys: an IN list is a statement per length, each
    # kept in the driver's statement cache (a hundred of them grew a long ingest's memory).
    known = f"SELECT {key} FROM {table.name} WHERE {key} IN (SELECT value FROM json_each(?))"
    for (stored,) in connection.exec_driver_sql(known, (json.dumps(list(fresh)),)):
        fresh.pop(stored, None)
    values = list(fresh.values())
    for start in range(0, len(values), SQLITE_ROWS):
        insert_many(connection, table, values[start : start + SQLITE_ROWS], "OR IGNORE")
    return set(fresh)


def _insert_new_postgres(
    connection: Connection, table: Table, fresh: dict[Any, Mapping[str, Any]], key: str
) -> set[Any]:
    """PostgreSQL: the rows copied (COPY, binary) into a temporary table of the same columns,
    then one INSERT ... SELECT from it, ON CONFLICT DO NOTHING RETURNING the keys. Through
    psycopg's own cursor, in the session's transaction; the temporary table is the
    connection's own and empties at commit. `fresh` holds one row a key (the first given), so
    no key is copied twice. One INSERT of an array per column (unnest) cost the server and
    this process about half again as much (bench/trail_bench.py)."""
    staging = _staging(table, connection.dialect, key)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(staging.create)
        with cursor.copy(staging.copy) as copy:
            copy.set_types(staging.types)
            for row in fresh.values():
                copy.write_row([row[k] for k in staging.keys])
        cursor.execute(staging.insert)
        stored = {found for (found,) in cursor.fetchall()}
        cursor.execute(staging.empty)
        return stored


@dataclass(frozen=True)
class _Staging:
    create: str
    copy: str
    types: tuple[str, ...]  # PostgreSQL's name of each column's type, without its width
    keys: tuple[str, ...]
    insert: str
    empty: str


@cache
def _staging(table: Table, dialect: Dialect, key: str) -> _Staging:
    keys = tuple(c.key for c in table.columns)
    names = ", ".join(keys)
    types = tuple(table.c[k].type.compile(dialect=dialect).split("(")[0].lower() for k in keys)
    incoming = f"incoming_{table.name}"
    return _Staging(
        create=(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {incoming} (LIKE {table.name}) "
            "ON COMMIT DELETE ROWS"
        ),
        copy=f"COPY {incoming} ({names}) FROM STDIN (FORMAT BINARY)",
        types=types,
        keys=keys,
        insert=(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {incoming} "
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
        ),
        empty=f"TRUNCATE {incoming}",
    )
