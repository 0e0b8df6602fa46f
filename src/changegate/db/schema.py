"""Schema management: Alembic migrations are the only way the schema changes.

`revision` and `is_current` read Alembic's version table with one plain query, so a command
that only checks the schema does not pay for importing Alembic; a test holds `HEAD` to the
newest migration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = "changegate:migrations"
HEAD: Final = "0017"


def _config() -> Config:
    from alembic.config import Config  # noqa: PLC0415

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPTS)
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A transaction for migrations; on SQLite with foreign-key enforcement off meanwhile.

    SQLite alters a table by copying it and dropping the original, which enforced foreign keys
    refuse while other tables' rows point at it. The pragma only takes effect outside a
    transaction, so it is set on the driver connection before the transaction begins, and the
    keys are checked before it commits.
    """
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                yield conn
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left rows pointing at missing rows")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def upgrade(engine: Engine) -> None:
    from alembic import command  # noqa: PLC0415

    cfg = _config()
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def autogenerate(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the models (developers only)."""
    from alembic import command  # noqa: PLC0415

    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first migration."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(found) if found else None


def is_current(engine: Engine) -> bool:
    return revision(engine) == HEAD


def alembic_head() -> str | None:
    """The newest migration as Alembic sees it (what `HEAD` must equal)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory.from_config(_config()).get_current_head()


def drop_all(engine: Engine) -> None:
    """Undo every migration (the demo's --reset), so no migrated table is left behind."""
    from alembic import command  # noqa: PLC0415

    cfg = _config()
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
