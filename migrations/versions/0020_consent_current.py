"""The consent ledger's current state per (customer, purpose), kept by the database from the events

``consent_current`` holds, for each customer and purpose with an effective event, that latest
event's sequence number, action, notice date and expiry: the same "latest effective event" the
purpose check and the dashboard derived with an anti-join over every event, now one primary-key
probe (a read's check) or an index range (the totals). It is a projection, not a flag: only the
trigger on ``consent_events`` INSERT writes it (an upsert that never moves back to an older
event), in the same statement as the event, so it cannot disagree with the ledger; no DELETE is
accepted; the state derived from it still applies the notice dates and expiries at read time.
Backfilled here from the events already recorded.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COLUMNS = "customer_id, purpose, seq, action, notice_effective_at, expires_at"
REFUSED = "consent_current follows the ledger: DELETE refused"


def upgrade():
    op.create_table(
        "consent_current",
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("notice_effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", "purpose", name=op.f("pk_consent_current")),
    )
    # The totals: subjects per purpose and action, those needing re-consent (granted under a
    # notice older than the latest widening one) and those expired, each an index range.
    op.create_index(
        "ix_consent_current_notice",
        "consent_current",
        ["purpose", "action", "notice_effective_at", "expires_at"],
    )
    op.create_index(
        "ix_consent_current_expiry", "consent_current", ["purpose", "action", "expires_at"]
    )
    upsert = (
        f"INSERT INTO consent_current ({COLUMNS}) VALUES (NEW.customer_id, NEW.purpose, "
        "NEW.seq, NEW.action, NEW.notice_effective_at, NEW.expires_at) "
        "ON CONFLICT (customer_id, purpose) DO UPDATE SET seq = excluded.seq, "
        "action = excluded.action, notice_effective_at = excluded.notice_effective_at, "
        "expires_at = excluded.expires_at WHERE excluded.seq > consent_current.seq"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION consent_current_follow() RETURNS trigger AS $$
            BEGIN
              {upsert};
              RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER consent_events_current AFTER INSERT ON consent_events "
            "FOR EACH ROW WHEN (NEW.effective) EXECUTE FUNCTION consent_current_follow()"
        )
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION consent_current_guard() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '{REFUSED}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER consent_current_no_delete BEFORE DELETE ON consent_current "
            "FOR EACH ROW EXECUTE FUNCTION consent_current_guard()"
        )
        op.execute(
            "CREATE TRIGGER consent_current_no_truncate BEFORE TRUNCATE ON consent_current "
            "FOR EACH STATEMENT EXECUTE FUNCTION consent_current_guard()"
        )
    else:
        op.execute(
            "CREATE TRIGGER consent_events_current AFTER INSERT ON consent_events "
            f"WHEN NEW.effective BEGIN {upsert}; END"
        )
        op.execute(
            "CREATE TRIGGER consent_current_no_delete BEFORE DELETE ON consent_current "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    # The events recorded so far: each (customer, purpose)'s latest effective one.
    op.execute(
        f"INSERT INTO consent_current ({COLUMNS}) "
        f"SELECT {COLUMNS} FROM consent_events AS e WHERE e.effective AND NOT EXISTS ("
        "SELECT 1 FROM consent_events AS later WHERE later.customer_id = e.customer_id "
        "AND later.purpose = e.purpose AND later.effective AND later.seq > e.seq)"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_events_current ON consent_events")
        op.execute("DROP TRIGGER IF EXISTS consent_current_no_delete ON consent_current")
        op.execute("DROP TRIGGER IF EXISTS consent_current_no_truncate ON consent_current")
        op.execute("DROP FUNCTION IF EXISTS consent_current_follow()")
        op.execute("DROP FUNCTION IF EXISTS consent_current_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS consent_events_current")
        op.execute("DROP TRIGGER IF EXISTS consent_current_no_delete")
    op.drop_table("consent_current")
