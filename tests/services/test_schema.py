"""The migrations build exactly the tables the models describe, on both databases: a column
added to a model without a migration (or the reverse) fails here, not on a user's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from changegate.db.models import Base, everything


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    everything()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert len(inspect(conn).get_table_names()) > 20
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_a_failed_statement_does_not_show_its_parameters(db_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from changegate.db.engine import build_engine

    engine = build_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execute(
                text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": "s3cr3t"}
            )
    except DBAPIError as exc:
        assert "s3cr3t" not in str(exc)
        assert "hidden due to hide_parameters" in str(exc)
    else:
        raise AssertionError("the statement should have failed")
    finally:
        engine.dispose()
