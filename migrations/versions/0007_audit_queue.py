"""Queued audit appends: the audit_queue table, audit_entries.qid, and their triggers

Writers INSERT their entry (a v2 leaf, its hash and the filter columns) into ``audit_queue`` in
the action's transaction; the integrator moves committed rows into ``audit_entries`` with their
sequence number. A queued row cannot be updated, and may only be deleted once an integrated
entry holds it (same queue id, leaf and leaf hash): a pending entry is as protected as an
integrated one, and integration can never drop one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 04:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REFUSED = "audit log is append-only: {op} on audit_queue refused"
NOT_INTEGRATED = "audit log is append-only: DELETE on audit_queue of an entry not integrated"
HELD = (
    "EXISTS (SELECT 1 FROM audit_entries e WHERE e.qid = OLD.id "
    "AND e.leaf = OLD.leaf AND e.leaf_hash = OLD.leaf_hash)"
)


def upgrade():
    op.create_table(
        "audit_queue",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("timestamp", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_role", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(64), nullable=True),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("leaf", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
        sqlite_autoincrement=True,  # ids never reused, even after the newest row is integrated
    )
    # A plain ADD COLUMN on both databases: no table rebuild, the entries' triggers untouched.
    op.add_column("audit_entries", sa.Column("qid", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_audit_entries_qid"), "audit_entries", ["qid"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_queue_guard() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND {HELD} THEN
                RETURN OLD;
              END IF;
              IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION '{NOT_INTEGRATED}';
              END IF;
              RAISE EXCEPTION '{REFUSED.format(op="%")}', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_queue_guard BEFORE UPDATE OR DELETE ON audit_queue "
            "FOR EACH ROW EXECUTE FUNCTION audit_queue_guard()"
        )
        op.execute(
            "CREATE TRIGGER audit_queue_no_truncate BEFORE TRUNCATE ON audit_queue "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_guard()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_queue_no_update BEFORE UPDATE ON audit_queue "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED.format(op='UPDATE')}'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_queue_no_delete BEFORE DELETE ON audit_queue WHEN NOT {HELD} "
        f"BEGIN SELECT RAISE(ABORT, '{NOT_INTEGRATED}'); END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_queue_guard ON audit_queue")
        op.execute("DROP TRIGGER IF EXISTS audit_queue_no_truncate ON audit_queue")
        op.execute("DROP FUNCTION IF EXISTS audit_queue_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_queue_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_queue_no_delete")
    op.drop_index(op.f("ix_audit_entries_qid"), table_name="audit_entries")
    op.drop_column("audit_entries", "qid")  # SQLite 3.35+ drops it in place, triggers kept
    op.drop_table("audit_queue")
