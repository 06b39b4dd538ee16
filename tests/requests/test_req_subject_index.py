"""The audit entry -> subject index: written with every entry (list reads included), backfilled
by migration 0016, and what "who read my data" is answered from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from governance.models import AuditEntry, AuditSubject
from governance.services.requests.accesses import accesses
from tests.conftest import make_app
from tests.requests.req_helpers import dpo, new_customer


def test_list_reads_index_every_subject_and_accesses_list_them(
    app: Any, client: Any, call: Any
) -> None:
    first = new_customer(call, email="one@example.com", full_name="One", phone=None,
                         national_id=None, external_ref="ONE")  # fmt: skip
    second = new_customer(call, email="two@example.com", full_name="Two", phone=None,
                          national_id=None, external_ref="TWO")  # fmt: skip
    headers = dpo(app, client)
    listed = client.get("/api/v1/customers", headers=headers)
    assert listed.status_code == 200
    entry = call.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "customer.list")
    ).one()
    indexed = set(call.session.scalars(
        select(AuditSubject.customer_id).where(AuditSubject.qid == entry.qid)))  # fmt: skip
    assert indexed == {first, second}
    seen = [a for a in accesses(call.session, second) if a["action"] == "customer.list"]
    assert len(seen) == 1 and seen[0]["role"] == "dpo" and seen[0]["fields"]
    call.session.rollback()
    assert headers


def test_migration_backfills_the_index_from_existing_entries(tmp_path: Path) -> None:
    from flask_migrate import upgrade

    from governance.extensions import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = make_app(url, tmp_path / "instance")
    leaf = json.dumps({"action": "customer.list", "subject_id": None,
                       "details": {"subjects": ["a-1", "b-2"]}})  # fmt: skip
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO audit_entries (seq, timestamp, actor_type, action, subject_id,"
                     " outcome, leaf, leaf_hash) VALUES (1, '2026-01-01T00:00:00.000000Z', "
                     "'user', 'customer.list', NULL, 'allowed', :leaf, :hash)"),
                {"leaf": leaf, "hash": b"\0" * 32},
            )  # fmt: skip
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, qid, customer_id FROM audit_subjects")).all()
    engine.dispose()
    assert sorted(rows) == [(1, None, "a-1"), (1, None, "b-2")]
