"""The repository base: a session, and one way to page a query in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ARRAY, Row, Select, any_, bindparam, func, select, text
from sqlalchemy.orm import Session

from changegate.db.engine import on_postgres

ANALYSE_AFTER_ROWS = 1000
IN_CHUNK = 5000  # well under SQLite's limit on bound variables

T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    """One page of a query's rows and the count of all its rows."""

    rows: Sequence[T]
    total: int


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def among(self, column: Any, values: Sequence[Any]) -> Iterable[Any]:
        """`column IN values`, in as few predicates as the database takes: one array parameter
        on PostgreSQL (psycopg parses each placeholder of an IN list in Python, which for an
        audit's year of ten thousand ids cost a second), chunks of `IN_CHUNK` on SQLite. Run
        the query once per predicate; no values, no predicate."""
        if not values:
            return
        if on_postgres(self.session):
            yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
            return
        for i in range(0, len(values), IN_CHUNK):
            yield column.in_(values[i : i + IN_CHUNK])

    def paginate(self, stmt: Select[tuple[T]], limit: int, offset: int) -> Slice[T]:
        """`stmt` must be ordered: LIMIT/OFFSET over an unordered query is not a stable page.
        Two statements: the count (without the ORDER BY) and the page itself."""
        rows = self.session.execute(stmt.limit(limit).offset(offset)).scalars().all()
        return Slice(rows, self._count(stmt))

    def paginate_rows(self, stmt: Select[Any], limit: int, offset: int) -> Slice[Row[Any]]:
        """As `paginate`, for a statement selecting columns rather than one entity."""
        rows = self.session.execute(stmt.limit(limit).offset(offset)).all()
        return Slice(rows, self._count(stmt))

    def analyse(self, table: str, rows: int) -> None:
        """Refresh the planner's statistics for `table` (a model's table name, never input)
        after writing `rows` rows, when that is many: plans made on stale statistics turned a
        5-second drift scan into a 342-second one on a server whose autovacuum had not run."""
        if rows >= ANALYSE_AFTER_ROWS:
            self.session.flush()
            self.session.execute(text(f"ANALYZE {table}"))

    def _count(self, stmt: Select[Any]) -> int:
        counted: Select[Any] = select(func.count()).select_from(stmt.order_by(None).subquery())
        return int(self.session.execute(counted).scalar_one())
