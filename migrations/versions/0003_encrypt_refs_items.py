"""Encrypt customers.external_ref (with a blind index) and orders.items

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:20:00.000000

Both can hold personal data, so they are stored like the other sensitive fields: ciphertext
under the subject's data key (``external_ref_ct``, ``items_ct``), and for ``external_ref`` a blind
index (``external_ref_bidx``, unique) for uniqueness, the list filter and imports'
update-by-reference. Encrypting existing values needs the master key, which Alembic never sees:
this revision renames the clear columns to ``external_ref_legacy`` / ``items_legacy`` and the
server encrypts and empties them when it starts (governance/services/customers/legacy_fields.py, idempotent,
audited). A later revision drops the legacy columns.

Downgrade refuses while encrypted values exist (they cannot be turned back into clear columns
without the master key); restore a backup taken before the upgrade instead.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # RENAME COLUMN is native on PostgreSQL and SQLite >= 3.25: no table copy on SQLite, so the
    # customers table is never dropped and recreated (its foreign keys cascade on delete).
    op.execute("ALTER TABLE customers RENAME COLUMN external_ref TO external_ref_legacy")
    op.execute("ALTER TABLE orders RENAME COLUMN items TO items_legacy")
    op.add_column("customers", sa.Column("external_ref_ct", sa.LargeBinary(), nullable=True))
    op.add_column(
        "customers", sa.Column("external_ref_bidx", sa.LargeBinary(length=16), nullable=True)
    )
    op.create_index(
        op.f("ix_customers_external_ref_bidx"), "customers", ["external_ref_bidx"], unique=True
    )
    op.add_column("orders", sa.Column("items_ct", sa.LargeBinary(), nullable=True))


def downgrade():
    bind = op.get_bind()
    encrypted = bind.execute(
        sa.text(
            "SELECT (SELECT COUNT(*) FROM customers WHERE external_ref_ct IS NOT NULL)"
            " + (SELECT COUNT(*) FROM orders WHERE items_ct IS NOT NULL)"
        )
    ).scalar()
    if encrypted:
        raise RuntimeError(
            "0003 cannot be downgraded: external_ref and order items are encrypted "
            f"({encrypted} values); restore a backup taken before the upgrade"
        )
    op.drop_index(op.f("ix_customers_external_ref_bidx"), table_name="customers")
    # DROP COLUMN is native on PostgreSQL and SQLite >= 3.35 (no table copy).
    op.execute("ALTER TABLE orders DROP COLUMN items_ct")
    op.execute("ALTER TABLE customers DROP COLUMN external_ref_bidx")
    op.execute("ALTER TABLE customers DROP COLUMN external_ref_ct")
    op.execute("ALTER TABLE orders RENAME COLUMN items_legacy TO items")
    op.execute("ALTER TABLE customers RENAME COLUMN external_ref_legacy TO external_ref")
