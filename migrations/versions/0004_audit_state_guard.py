"""Audit tree state only moves forward: triggers refuse DELETE of the ``audit_state`` row and any
UPDATE that shrinks the tree, rewrites the frontier of an unchanged tree or rewinds the last
checkpoint

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# An append grows ``size`` and replaces the frontier with one of the same size; a checkpoint only
# moves ``last_checkpoint_*`` forward. Anything else would let someone cut the log back and
# rebuild a state that agrees with the shortened rows (the verifier also compares a checkpoint
# kept outside the database, but the triggers stop it through the server's own connection).
REWINDS_SQLITE = (
    "NEW.id IS NOT OLD.id OR NEW.size IS NULL OR NEW.size < OLD.size"
    " OR (NEW.size = OLD.size AND NEW.frontier IS NOT OLD.frontier)"
    " OR NEW.last_checkpoint_size < OLD.last_checkpoint_size"
    " OR json_extract(NEW.frontier, '$.size') IS NOT NEW.size"
)
REWINDS_POSTGRESQL = (
    "NEW.id IS DISTINCT FROM OLD.id OR NEW.size IS NULL OR NEW.size < OLD.size"
    " OR (NEW.size = OLD.size AND NEW.frontier IS DISTINCT FROM OLD.frontier)"
    " OR NEW.last_checkpoint_size < OLD.last_checkpoint_size"
    " OR (NEW.frontier::jsonb ->> 'size')::bigint IS DISTINCT FROM NEW.size"
)
REFUSED = "audit log is append-only: {op} on audit_state that does not extend the tree refused"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_state_forward_only() RETURNS trigger AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION '{REFUSED.format(op="%")}', TG_OP;
              END IF;
              IF {REWINDS_POSTGRESQL} THEN
                RAISE EXCEPTION '{REFUSED.format(op="UPDATE")}';
              END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_state_forward_only BEFORE UPDATE OR DELETE ON audit_state "
            "FOR EACH ROW EXECUTE FUNCTION audit_state_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_state_no_truncate BEFORE TRUNCATE ON audit_state "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_state_forward_only()"
        )
        return
    op.execute(
        "CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED.format(op='DELETE')}'); END"
    )
    op.execute(
        f"CREATE TRIGGER audit_state_no_rewind BEFORE UPDATE ON audit_state WHEN {REWINDS_SQLITE} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED.format(op='UPDATE')}'); END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_state_forward_only ON audit_state")
        op.execute("DROP TRIGGER IF EXISTS audit_state_no_truncate ON audit_state")
        op.execute("DROP FUNCTION IF EXISTS audit_state_forward_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_state_no_delete")
    op.execute("DROP TRIGGER IF EXISTS audit_state_no_rewind")
