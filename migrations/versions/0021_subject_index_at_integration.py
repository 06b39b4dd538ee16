"""The audit entry -> subject index is written by the integrator, keyed by sequence number

Until now each governed call wrote its entry's ``audit_subjects`` rows (queue id, no sequence
number) in its own transaction: one row per subject, each in two indexes ordered by customer,
so a list page of 50 dirtied about a hundred scattered index pages on every request. The
integrator now writes them, sequence number included, in the transaction that integrates the
entries (a batch shares the pages), and entries still waiting in the queue are found in the
queue. Here the rows written so far get their entry's sequence number, the rows of entries not
yet integrated are removed (the integrator indexes those when it integrates them), and the
index by queue id, which nothing reads any more, is dropped.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:00:00.000000

"""

import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE audit_subjects SET seq = (SELECT audit_entries.seq FROM audit_entries"
        " WHERE audit_entries.qid = audit_subjects.qid)"
        " WHERE audit_subjects.seq IS NULL AND audit_subjects.qid IS NOT NULL"
    )
    op.execute("DELETE FROM audit_subjects WHERE seq IS NULL")  # still queued: see above
    op.drop_index("ix_audit_subjects_customer_qid", table_name="audit_subjects")


def _subjects(subject_id, leaf):
    found = {subject_id} if subject_id else set()
    try:
        details = json.loads(leaf).get("details") or {}
    except (ValueError, AttributeError):
        return found
    listed = details.get("subjects") if isinstance(details, dict) else None
    if isinstance(listed, list):
        found.update(s for s in listed if isinstance(s, str) and s and len(s) <= 64)
    return found


def downgrade():
    """Back to 0016's shape: rows of queued-era entries by queue id only, and queued entries
    indexed by queue id."""
    op.create_index("ix_audit_subjects_customer_qid", "audit_subjects", ["customer_id", "qid"])
    op.execute("UPDATE audit_subjects SET seq = NULL WHERE qid IS NOT NULL")
    conn = op.get_bind()
    target = sa.table(
        "audit_subjects",
        sa.column("qid", sa.BigInteger()),
        sa.column("seq", sa.BigInteger()),
        sa.column("customer_id", sa.String()),
    )
    rows = conn.execute(sa.text("SELECT id, subject_id, leaf FROM audit_queue")).all()
    values = [
        {"qid": qid, "seq": None, "customer_id": subject}
        for qid, subject_id, leaf in rows
        for subject in sorted(_subjects(subject_id, leaf))
    ]
    if values:
        conn.execute(target.insert(), values)
