"""Alembic environment: always driven programmatically by ``turnout.store.migrate``.

The connection is handed over in ``config.attributes['connection']`` so that the
migration runs inside the caller's transaction and lock.
"""

from __future__ import annotations

from alembic import context

from turnout.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
context.run_migrations()
