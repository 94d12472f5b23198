"""Alembic environment: run the migrations on the connection `tuner.store.migrate` passes in.

There is no alembic.ini and no offline (SQL script) mode: the connection, already inside the transaction
that holds the migration lock, arrives through `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context

from tuner.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run tuner's migrations with `tuner db upgrade` or tuner.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
