"""Alembic migrations of the store's schema, shipped inside the package.

Run them through `tuner.store.migrate` (or `tuner db upgrade`), which hands Alembic an open connection;
`env.py` refuses to run any other way. One file per revision in `versions/`, named `NNNN_what.py`.
"""
