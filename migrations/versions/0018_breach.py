"""Breach response: incidents, timeline, notification tasks, affected subjects, sealed notices;
an index on the audit log's (actor_id, timestamp) for "everything this actor read"

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table):
    return sa.ForeignKeyConstraint(
        ["incident_id"], ["incidents.id"],
        name=op.f(f"fk_{table}_incident_id_incidents"), ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detected_at", STAMP, nullable=False),
        sa.Column("aware_at", STAMP, nullable=False),
        sa.Column("systems", sa.JSON(), nullable=False),
        sa.Column("data_categories", sa.JSON(), nullable=False),
        sa.Column("encrypted_exposed", sa.Boolean(), nullable=False),
        sa.Column("keys_exposed", sa.Boolean(), nullable=False),
        sa.Column("harm_mitigated", sa.Boolean(), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=True),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("containment", sa.Text(), nullable=False),
        sa.Column("consequences", sa.Text(), nullable=False),
        sa.Column("measures_proposed", sa.Text(), nullable=False),
        sa.Column("lessons_learned", sa.Text(), nullable=False),
        sa.Column("dpo_contact", sa.Text(), nullable=False),
        sa.Column("approx_records", sa.BigInteger(), nullable=True),
        sa.Column("freeze_downloads", sa.Boolean(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_state"), ["state"])
    op.create_table(
        "incident_events",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("incident_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_events_incident_id"), ["incident_id"])
    op.create_table(
        "notification_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("regime", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("due_at", STAMP, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("waived_reason", sa.Text(), nullable=True),
        sa.Column("completed_at", STAMP, nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("late_reasons", sa.Text(), nullable=True),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        _fk("notification_tasks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_tasks")),
        sa.UniqueConstraint("incident_id", "regime", "target", name="uq_task_rule"),
    )
    with op.batch_alter_table("notification_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_tasks_incident_id"), ["incident_id"])
    op.create_table(
        "incident_subjects",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("readability", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        _fk("incident_subjects"),
        sa.PrimaryKeyConstraint("incident_id", "customer_id", name=op.f("pk_incident_subjects")),
    )
    op.create_table(
        "breach_notices",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("pdf_ct", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        _fk("breach_notices"),
        sa.PrimaryKeyConstraint("incident_id", "customer_id", name=op.f("pk_breach_notices")),
    )
    # A plain CREATE INDEX (no batch): batch mode could rebuild the table and lose its triggers.
    op.create_index("ix_audit_entries_actor_time", "audit_entries", ["actor_id", "timestamp"])


def downgrade():
    op.drop_index("ix_audit_entries_actor_time", table_name="audit_entries")
    op.drop_table("breach_notices")
    op.drop_table("incident_subjects")
    with op.batch_alter_table("notification_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_tasks_incident_id"))
    op.drop_table("notification_tasks")
    with op.batch_alter_table("incident_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_events_incident_id"))
    op.drop_table("incident_events")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_state"))
    op.drop_table("incidents")
