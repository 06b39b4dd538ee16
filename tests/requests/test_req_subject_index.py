"""The audit entry -> subject index: written by the integrator for every entry it integrates
(list reads included), keyed by sequence number; entries still queued are found in the queue.
Migrations 0016 (backfill) and 0021 (from queue ids to sequence numbers) keep what was there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select, text

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
    indexed = call.session.execute(
        select(AuditSubject.customer_id, AuditSubject.seq, AuditSubject.qid).where(
            AuditSubject.seq == entry.seq
        )
    ).all()
    assert sorted(indexed) == sorted([(first, entry.seq, entry.qid), (second, entry.seq,
                                                                        entry.qid)])  # fmt: skip
    seen = [a for a in accesses(call.session, second) if a["action"] == "customer.list"]
    assert len(seen) == 1 and seen[0]["role"] == "dpo" and seen[0]["fields"]
    assert seen[0]["seq"] == entry.seq
    call.session.rollback()
    assert headers


def test_a_queued_entry_is_found_before_it_is_indexed_and_indexed_when_integrated(
    app: Any, client: Any, call: Any
) -> None:
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.auditlog.integrator import integrate_pending

    listed_one = new_customer(call, email="q1@example.com", full_name="Queued One", phone=None,
                              national_id=None, external_ref="Q1")  # fmt: skip
    never = new_customer(call, email="q2@example.com", full_name="Not Listed", phone=None,
                         national_id=None, external_ref="Q2")  # fmt: skip
    headers = dpo(app, client)

    def indexed() -> int:
        rows = call.session.scalars(
            select(AuditSubject.id).where(AuditSubject.customer_id == listed_one)
        ).all()
        call.session.rollback()
        return len(rows)

    before = indexed()  # its creation's entry
    deps(app).audit.inline = False  # as served: the request only queues its entry
    read = client.get(f"/api/v1/customers/{listed_one}", headers=headers)
    assert read.status_code == 200
    assert indexed() == before  # the request wrote no index row
    pending = [a for a in accesses(call.session, listed_one) if a["action"] == "customer.read"]
    assert len(pending) == 1 and pending[0]["seq"] is None and pending[0]["role"] == "dpo"
    assert not [a for a in accesses(call.session, never) if a["action"] == "customer.read"]
    call.session.rollback()
    with app.app_context():
        assert integrate_pending(db.engine, deps(app).audit) >= 1
    done = [a for a in accesses(call.session, listed_one) if a["action"] == "customer.read"]
    assert len(done) == 1 and isinstance(done[0]["seq"], int)  # the same entry, now integrated
    call.session.rollback()
    assert indexed() == before + 1


def _entry(conn: Any, table: str, key: str, value: int, subjects: list[str], qid: int | None
           ) -> None:  # fmt: skip
    leaf = json.dumps({"action": "customer.list", "subject_id": None,
                       "details": {"subjects": subjects}})  # fmt: skip
    extra = ", qid" if qid is not None else ""
    conn.execute(
        text(f"INSERT INTO {table} ({key}, timestamp, actor_type, action, subject_id, outcome,"
             f" leaf, leaf_hash{extra}) VALUES (:key, '2026-01-01T00:00:00.000000Z', 'user',"
             f" 'customer.list', NULL, 'allowed', :leaf, :hash{', :qid' if qid else ''})"),
        {"key": value, "leaf": leaf, "hash": b"\0" * 32, "qid": qid},
    )  # fmt: skip


def test_migrations_backfill_the_index_and_move_it_to_sequence_numbers(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from governance.extensions import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = make_app(url, tmp_path / "instance")
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:  # an entry from before the index existed
            _entry(conn, "audit_entries", "seq", 1, ["a-1", "b-2"], None)
        upgrade(revision="0020")
        with db.engine.begin() as conn:  # one queued entry integrated, one still queued
            _entry(conn, "audit_entries", "seq", 2, ["c-3"], 7)
            _entry(conn, "audit_queue", "id", 8, ["d-4"], None)
            conn.execute(text("INSERT INTO audit_subjects (qid, seq, customer_id) VALUES"
                              " (7, NULL, 'c-3'), (8, NULL, 'd-4')"))  # fmt: skip
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, qid, customer_id FROM audit_subjects")).all()
        indexes = {i["name"] for i in inspect(conn).get_indexes("audit_subjects")}
    assert sorted(rows, key=str) == sorted([(1, None, "a-1"), (1, None, "b-2"), (2, 7, "c-3")],
                                           key=str)  # the queued one: the integrator's  # fmt: skip
    assert indexes == {"ix_audit_subjects_customer_seq"}
    engine.dispose()
    with app.app_context():
        downgrade(revision="0020")
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, qid, customer_id FROM audit_subjects")).all()
    engine.dispose()
    assert sorted(rows, key=str) == sorted(
        [(1, None, "a-1"), (1, None, "b-2"), (None, 7, "c-3"), (None, 8, "d-4")], key=str
    )
