"""Alembic environment: always handed a connection by changegate.db.schema (no ini file)."""

from alembic import context

from changegate.db.models import everything

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=everything().metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
