"""Alembic environment: runs on the connection ``bot.state.migrate.upgrade`` hands over.

There is no offline (``--sql``) mode and no ``alembic.ini``: the bot migrates itself at start
and with ``python -m bot db upgrade``.
"""

from __future__ import annotations

from alembic import context

from bot.state.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by running the alembic CLI by hand
    raise SystemExit("Run migrations with `python -m bot db upgrade`, not the alembic command.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=False,
)
with context.begin_transaction():
    context.run_migrations()
