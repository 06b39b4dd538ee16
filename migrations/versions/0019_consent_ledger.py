"""The consent ledger: notices, consent events, objections; the marketing flags become events

Creates the append-only tables (UPDATE and DELETE refused by triggers on SQLite and PostgreSQL,
like the audit tables), seeds notice version "1" covering every consent-based purpose, and turns
each customer's four ``marketing`` booleans into consent events (true: grant, false: refuse)
with source ``migration``, each queued as an audit entry in this same transaction (the
integrator adds them to the tree). The flags are then emptied: the customer document's
``marketing`` is a view of the ledger from now on.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 20:00:00.000000

"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from audit.entry import Entry
from audit.hashing import leaf_hash

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("consent_notices", "consent_notice_purposes", "consent_events", "consent_objections")
REFUSED = "consent ledger is append-only: {op} on {table} refused"
CONSENT_PURPOSES = (
    "marketing_email",
    "marketing_sms",
    "marketing_phone",
    "marketing_post",
    "profiling",
    "sale_or_sharing",
)
FLAGS = {"email": "marketing_email", "sms": "marketing_sms", "phone": "marketing_phone",
         "post": "marketing_post"}  # fmt: skip
FIRST_NOTICE = (
    "Privacy notice, version 1. We ask your consent to send you marketing by email, text "
    "message, telephone and post, to build a profile of your preferences to personalise offers, "
    "and to sell or share your personal information with third parties. You may withdraw any "
    "consent at any time, as easily as you gave it."
)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
TIMES = {"effective_at", "created_at", "notice_effective_at", "occurred_at", "recorded_at"}


def _cols(*names: str) -> list:
    """Typed columns, so times are stored exactly as the models store them (SQLite compares
    them as text)."""
    return [sa.column(n, TIME) if n in TIMES else sa.column(n) for n in names]


def _tables() -> None:
    op.create_table(
        "consent_notices",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("lifetime_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_consent_notices")),
    )
    op.create_index(
        op.f("ix_consent_notices_effective_at"), "consent_notices", ["effective_at"]
    )
    op.create_table(
        "consent_notice_purposes",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("widens", sa.Boolean(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "purpose", name=op.f("pk_consent_notice_purposes")),
    )
    op.create_index(
        "ix_consent_notice_purposes_widening",
        "consent_notice_purposes",
        ["purpose", "effective_at"],
    )
    op.create_table(
        "consent_events",
        sa.Column("seq", SEQ, nullable=False, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("effective", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("notice_version", sa.String(32), nullable=True),
        sa.Column("notice_effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("evidence_ref", sa.String(200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("audit_qid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_events")),
        sa.UniqueConstraint("id", name=op.f("uq_consent_events_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_consent_events_subject", "consent_events", ["customer_id", "purpose", "seq"]
    )
    op.create_index(op.f("ix_consent_events_recorded_at"), "consent_events", ["recorded_at"])
    op.create_table(
        "consent_objections",
        sa.Column("seq", SEQ, nullable=False, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("request_ref", sa.String(200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("audit_qid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_objections")),
        sa.UniqueConstraint("id", name=op.f("uq_consent_objections_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_consent_objections_subject", "consent_objections", ["customer_id", "seq"])


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION consent_ledger_guard() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'consent ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION consent_ledger_guard()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION consent_ledger_guard()"
            )
        return
    for table in TABLES:
        for verb in ("UPDATE", "DELETE"):
            message = REFUSED.format(op=verb, table=table)
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def _seed_and_migrate() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    digest = hashlib.sha256(FIRST_NOTICE.encode("utf-8")).hexdigest()
    notices = sa.table("consent_notices", *_cols("version", "effective_at", "text", "url",
                                                  "text_sha256", "lifetime_days", "created_at"))  # fmt: skip
    conn.execute(notices.insert().values(version="1", effective_at=now, text=FIRST_NOTICE,
                                         url=None, text_sha256=digest, lifetime_days=None,
                                         created_at=now))  # fmt: skip
    purposes = sa.table("consent_notice_purposes",
                        *_cols("version", "purpose", "widens", "effective_at"))  # fmt: skip
    conn.execute(purposes.insert(), [
        {"version": "1", "purpose": p, "widens": True, "effective_at": now}
        for p in CONSENT_PURPOSES
    ])  # fmt: skip
    customers = sa.table("customers", sa.column("id"), sa.column("marketing", sa.JSON))
    rows = conn.execute(sa.select(customers.c.id, customers.c.marketing)).all()
    events = sa.table("consent_events", *_cols(
        "id", "customer_id", "purpose", "action", "effective", "source", "notice_version",
        "notice_effective_at", "occurred_at", "recorded_at", "actor_id", "actor_type",
        "audit_qid"))  # fmt: skip
    queue = sa.table("audit_queue", *(sa.column(c) for c in (
        "id", "timestamp", "actor_id", "actor_type", "actor_role", "action", "resource",
        "subject_id", "purpose", "outcome", "leaf", "leaf_hash")))  # fmt: skip
    for customer_id, marketing in rows:
        flags = marketing if isinstance(marketing, dict) else json.loads(marketing or "{}")
        for flag, purpose in FLAGS.items():
            if not isinstance(flags.get(flag), bool):
                continue
            action = "grant" if flags[flag] else "refuse"
            event_id = str(uuid.uuid4())
            entry = Entry(
                timestamp=_rfc3339(now), actor_id="migration", actor_type="system",
                actor_role="system", action=f"consent.{action}", resource="consent",
                subject_id=customer_id, purpose=purpose, outcome="allowed",
                request_id=None, client=None,
                details={"event": event_id, "source": "migration", "notice_version": "1",
                         "notice_sha256": digest, "effective": True},
            )  # fmt: skip
            leaf = entry.leaf()
            result = conn.execute(queue.insert().values(
                timestamp=entry.timestamp, actor_id="migration", actor_type="system",
                actor_role="system", action=entry.action, resource="consent",
                subject_id=customer_id, purpose=purpose, outcome="allowed",
                leaf=leaf.decode("utf-8"), leaf_hash=leaf_hash(leaf)))  # fmt: skip
            qid = int(tuple(result.inserted_primary_key or (0,))[0])
            conn.execute(events.insert().values(
                id=event_id, customer_id=customer_id, purpose=purpose, action=action,
                effective=True, source="migration", notice_version="1",
                notice_effective_at=now, occurred_at=now, recorded_at=now,
                actor_id="migration", actor_type="system", audit_qid=qid))  # fmt: skip
    conn.execute(customers.update().values(marketing={}))


def upgrade():
    _tables()
    _triggers()
    _seed_and_migrate()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS consent_ledger_guard()")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for table in reversed(TABLES):
        op.drop_table(table)
