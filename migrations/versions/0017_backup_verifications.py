"""Backup verifications: each attempt to prove a backup restores, with its checks and result

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "backup_verifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("backup_id", sa.String(32), nullable=True),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failed_check", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_backup_verifications_backup_id", "backup_verifications", ["backup_id"])
    op.create_index("ix_backup_verifications_status", "backup_verifications", ["status"])
    op.create_index("ix_backup_verifications_started_at", "backup_verifications", ["started_at"])


def downgrade():
    op.drop_table("backup_verifications")
