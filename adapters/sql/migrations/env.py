"""Alembic environment: kntc passes the connection in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from adapters.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - kntc always passes a connection
    raise RuntimeError("run migrations through `kntc db upgrade` or adapters.sql.migrate.upgrade()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
