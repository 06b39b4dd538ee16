"""PII discovery: store scans (with their data inventory) and findings (locations, never values)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:02:08.948729

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "pii_findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=True),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("declared", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_scan_id", sa.String(length=36), nullable=False),
        sa.Column("last_scan_id", sa.String(length=36), nullable=False),
        sa.Column("first_seen_at", STAMP, nullable=False),
        sa.Column("last_seen_at", STAMP, nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_findings")),
        sa.UniqueConstraint(
            "table_name",
            "column_name",
            "record_id",
            "entity_type",
            "start_offset",
            name="uq_pii_findings_identity",
        ),
    )
    with op.batch_alter_table("pii_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pii_findings_entity_type"), ["entity_type"])
        batch_op.create_index(batch_op.f("ix_pii_findings_status"), ["status"])
        batch_op.create_index(batch_op.f("ix_pii_findings_subject_id"), ["subject_id"])
        batch_op.create_index("ix_pii_findings_table_record", ["table_name", "record_id"])

    op.create_table(
        "pii_scans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("since", STAMP, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", STAMP, nullable=False),
        sa.Column("finished_at", STAMP, nullable=True),
        sa.Column("records_scanned", sa.Integer(), nullable=False),
        sa.Column("texts_scanned", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("inventory", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_scans")),
    )
    with op.batch_alter_table("pii_scans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pii_scans_job_id"), ["job_id"])
        batch_op.create_index(batch_op.f("ix_pii_scans_started_at"), ["started_at"])
        batch_op.create_index(batch_op.f("ix_pii_scans_state"), ["state"])


def downgrade():
    with op.batch_alter_table("pii_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pii_scans_state"))
        batch_op.drop_index(batch_op.f("ix_pii_scans_started_at"))
        batch_op.drop_index(batch_op.f("ix_pii_scans_job_id"))
    op.drop_table("pii_scans")
    with op.batch_alter_table("pii_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_pii_findings_table_record")
        batch_op.drop_index(batch_op.f("ix_pii_findings_subject_id"))
        batch_op.drop_index(batch_op.f("ix_pii_findings_status"))
        batch_op.drop_index(batch_op.f("ix_pii_findings_entity_type"))
    op.drop_table("pii_findings")
