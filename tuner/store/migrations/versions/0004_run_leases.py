"""Pipeline run leases: one process at a time drives a pipeline run (a server resuming runs at start-up
must not drive a run another server drives); and each task's running process (pid, start time, host), so
a driver that resumes a run can find a step's process that outlived the previous driver.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("lease_acquired_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("process", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("process")
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_acquired_at")
        batch.drop_column("lease_holder")
