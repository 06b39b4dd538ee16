"""Customers' subdivision (ISO 3166-2), which decides with the country which legal regimes apply

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("subdivision", sa.String(6), nullable=True))


def downgrade():
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("subdivision")
