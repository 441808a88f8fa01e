"""Alembic environment: migrations run on the connection bootstrap hands over.

``backend_bridge.bootstrap.migrate`` runs them at start (under a lock, so a gateway and
dispatchers starting together migrate once); `alembic` on the command line is not needed.
"""

from __future__ import annotations

from alembic import context

from backend_bridge.adapters.orm import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
