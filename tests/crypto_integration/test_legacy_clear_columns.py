"""Revision 0003: a store whose external_ref and order items were kept in clear (revision 0002)
is upgraded; the server's start seals them (Alembic never sees the master key), once, audited,
leaving no clear copy at rest, and lookups by external_ref find the customer by blind index."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import make_app, make_token
from test_invariant_no_plaintext import raw_bytes

from governance.bootstrap import deps
from governance.extensions import db
from governance.models import AuditEntry

PG_URL = os.environ.get("GOVERNANCE_TEST_DATABASE_URL")
REF = "Legacy-Ref-Okapi"
ITEMS = [{"sku": "SKU-7", "engraving": "Aardvark-Engraving"}]


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    if PG_URL is None:
        yield f"sqlite:///{tmp_path / 'legacy.db'}"
        return
    name = f"gov_legacy_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(
        PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def store_at_0002(app: Any) -> tuple[str, str]:
    """Migrate to 0002 and write a customer and an order as that schema did (ids returned)."""
    from flask_migrate import upgrade

    now = datetime(2026, 1, 1, tzinfo=UTC)
    customer_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
    with app.app_context():
        upgrade(revision="0002")
        tables = sa.MetaData()
        tables.reflect(db.engine, only=["customers", "orders", "data_keys"])
        _, key_row = deps(app).vault.new_subject_key(customer_id)
        with db.engine.begin() as conn:
            conn.execute(tables.tables["data_keys"].insert(), {**key_row, "created_at": now})
            conn.execute(
                tables.tables["customers"].insert(),
                {"id": customer_id, "external_ref": REF, "marketing": {}, "created_at": now,
                 "updated_at": now},
            )  # fmt: skip
            conn.execute(
                tables.tables["orders"].insert(),
                {"id": order_id, "customer_id": customer_id, "ordered_at": now, "amount": 5,
                 "currency": "EUR", "items": ITEMS, "created_at": now, "updated_at": now},
            )  # fmt: skip
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return customer_id, order_id


def audit_count(app: Any, action: str) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).where(AuditEntry.action == action)
        count = db.session.scalar(query.select_from(AuditEntry))
        db.session.remove()
        return int(count or 0)


def close(app: Any) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_clear_values_of_revision_0002_are_sealed_at_start(empty_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = make_app(empty_url, instance)  # an empty database: nothing to seal yet
    customer_id, order_id = store_at_0002(first)
    close(first)

    started = make_app(empty_url, instance)  # the server starts on the upgraded store
    try:
        at_rest = raw_bytes(started, tmp_path)
        assert customer_id.encode() in at_rest  # the scan sees the rows
        assert b"Okapi" not in at_rest and b"Aardvark" not in at_rest
        assert audit_count(started, "data.encrypt_legacy") == 2  # one batch per field
        crm = {"Authorization": f"Bearer {make_token(started, 'crm_app')}", "X-Purpose": "support"}
        client = started.test_client()
        found = client.get(f"/api/v1/customers?external_ref={REF}", headers=crm).json["items"]
        assert [c["id"] for c in found] == [customer_id] and found[0]["external_ref"] == REF
        orders = client.get(f"/api/v1/customers/{customer_id}/orders", headers=crm).json
        assert [(o["id"], o["items"]) for o in orders["items"]] == [(order_id, ITEMS)]
        taken = client.post(
            "/api/v1/customers", headers=crm, json={"full_name": "X Y", "external_ref": REF}
        )
        assert taken.status_code == 409  # uniqueness holds through the blind index
    finally:
        close(started)

    again = make_app(empty_url, instance)  # idempotent: a later start has nothing to do
    try:
        assert audit_count(again, "data.encrypt_legacy") == 2
    finally:
        close(again)
