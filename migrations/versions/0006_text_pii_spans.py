"""Sealed PII spans beside free text: orders.comment_spans, interactions.note_spans

The PII spans (entity types and offsets, no values) found when a comment or note is written,
sealed with the customer's data key, so reads can mask personal data inside the text for roles
that see the matching field masked without analysing the text again. Rows written before this
revision keep NULL and are analysed on read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = (("orders", "comment_spans"), ("interactions", "note_spans"))


def upgrade():
    # A plain ADD COLUMN on both SQLite and PostgreSQL: no table rebuild, triggers untouched.
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.LargeBinary(), nullable=True))


def downgrade():
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
