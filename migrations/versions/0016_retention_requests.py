"""Retention and data-subject requests: legal holds, sweep removals, requests with their history
and exports, and the audit entry -> subject index (backfilled from the existing entries)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 20:10:00.000000

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=True),
        sa.Column("released_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index(op.f("ix_legal_holds_customer_id"), "legal_holds", ["customer_id"])
    op.create_index(op.f("ix_legal_holds_category"), "legal_holds", ["category"])
    op.create_table(
        "retention_removals",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("removed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_removals")),
    )
    op.create_index(op.f("ix_retention_removals_job_id"), "retention_removals", ["job_id"])
    op.create_index(
        "ix_retention_removals_rule_at", "retention_removals", ["rule", "removed_at"]
    )
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=True),
        sa.Column("matched_by", sa.String(16), nullable=True),
        sa.Column("jurisdiction", sa.String(32), nullable=True),
        sa.Column("jurisdictions", sa.JSON(), nullable=False),
        sa.Column("jurisdiction_note", sa.Text(), nullable=True),
        sa.Column("verification", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("original_due_at", TZ, nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_told_at", TZ, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("changes_ct", sa.LargeBinary(), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("erasure_qid", sa.BigInteger(), nullable=True),
        sa.Column("certificate", sa.JSON(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_requests")),
    )
    op.create_index(op.f("ix_subject_requests_state"), "subject_requests", ["state"])
    op.create_index(op.f("ix_subject_requests_customer_id"), "subject_requests", ["customer_id"])
    op.create_index(op.f("ix_subject_requests_due_at"), "subject_requests", ["due_at"])
    op.create_table(
        "subject_request_events",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_requests.id"],
            name=op.f("fk_subject_request_events_request_id_subject_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_request_events")),
    )
    op.create_index(
        op.f("ix_subject_request_events_request_id"), "subject_request_events", ["request_id"]
    )
    op.create_table(
        "subject_request_exports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("content_ct", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("downloaded_at", TZ, nullable=True),
        sa.Column("deleted_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_requests.id"],
            name=op.f("fk_subject_request_exports_request_id_subject_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_request_exports")),
    )
    op.create_index(
        op.f("ix_subject_request_exports_request_id"), "subject_request_exports", ["request_id"]
    )
    op.create_index(
        op.f("ix_subject_request_exports_expires_at"), "subject_request_exports", ["expires_at"]
    )
    op.create_table(
        "audit_subjects",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("qid", sa.BigInteger(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_subjects")),
    )
    op.create_index("ix_audit_subjects_customer_qid", "audit_subjects", ["customer_id", "qid"])
    op.create_index("ix_audit_subjects_customer_seq", "audit_subjects", ["customer_id", "seq"])
    _backfill()


def _subjects(subject_id, leaf):
    """The subject ids an entry names: its subject_id and a list read's details.subjects."""
    found = {subject_id} if subject_id else set()
    try:
        details = json.loads(leaf).get("details") or {}
    except ValueError:
        return found
    listed = details.get("subjects") if isinstance(details, dict) else None
    if isinstance(listed, list):
        found.update(s for s in listed if isinstance(s, str) and s)
    return found


def _backfill():
    """Index the entries written before this revision, in batches (ids only, no values)."""
    conn = op.get_bind()
    target = sa.table(
        "audit_subjects",
        sa.column("qid", sa.BigInteger()),
        sa.column("seq", sa.BigInteger()),
        sa.column("customer_id", sa.String()),
    )
    for table, key in (("audit_entries", "seq"), ("audit_queue", "id")):
        last = 0
        while True:
            rows = conn.execute(
                sa.text(
                    f"SELECT {key}, qid, subject_id, leaf FROM {table} WHERE {key} > :last "
                    f"ORDER BY {key} LIMIT 2000"
                    if table == "audit_entries"
                    else f"SELECT {key}, {key}, subject_id, leaf FROM {table} WHERE {key} > :last "
                    f"ORDER BY {key} LIMIT 2000"
                ),
                {"last": last},
            ).all()
            if not rows:
                break
            values = []
            for position, qid, subject_id, leaf in rows:
                for subject in sorted(_subjects(subject_id, leaf)):
                    if qid is not None:
                        values.append({"qid": qid, "seq": None, "customer_id": subject})
                    else:
                        values.append({"qid": None, "seq": position, "customer_id": subject})
            if values:
                conn.execute(target.insert(), values)
            last = rows[-1][0]


def downgrade():
    op.drop_table("audit_subjects")
    op.drop_table("subject_request_exports")
    op.drop_table("subject_request_events")
    op.drop_table("subject_requests")
    op.drop_table("retention_removals")
    op.drop_table("legal_holds")
