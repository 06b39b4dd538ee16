"""Audit or nothing; verification reads a snapshot without blocking writers; bad input is a 4xx;
which audit-log operations are themselves audited."""

from __future__ import annotations

import sqlite3
from typing import Any

from alog_helpers import build_log, dialect
from conftest import csrf_headers, customer_doc, login_as
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from governance.extensions import db
from governance.models import AuditEntry, Customer
from governance.services.auditlog import views as audit_views

REFUSE_SQLITE = (
    "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'audit storage refused'); END"
)
REFUSE_PG = (
    "CREATE FUNCTION test_refuse_audit() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'audit storage refused'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()",
)


def test_when_the_database_refuses_the_append_the_action_fails(
    app: Any, client: Any, crm: dict[str, str], call: Any
) -> None:
    """The customer row is written first; the failed audit insert takes it down with it."""
    pg = dialect(call.session) == "postgresql"
    for statement in REFUSE_PG if pg else (REFUSE_SQLITE,):
        call.session.execute(text(statement))
    call.session.commit()
    res = client.post("/api/v1/customers", headers=crm, json=customer_doc())
    assert res.status_code == 500 and res.mimetype == "application/problem+json"
    call.session.rollback()
    assert call.session.scalar(select(func.count()).select_from(Customer)) == 0
    call.session.execute(
        text("DROP TRIGGER test_refuse_audit" + (" ON audit_entries" if pg else ""))
    )
    call.session.commit()
    assert client.post("/api/v1/customers", headers=crm, json=customer_doc()).status_code == 201
    assert call.session.scalar(select(func.count()).select_from(Customer)) == 1
    audit_views.verify_live(call)


def _assert_no_write_lock(session: Any) -> None:
    if dialect(session) != "sqlite":
        return
    path = session.get_bind().url.database
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")  # raises "database is locked" if anyone holds it
        probe.execute("ROLLBACK")
    finally:
        probe.close()


def test_verification_reads_a_snapshot_and_lets_writers_through(call: Any) -> None:
    """A checkpoint committed mid-verification neither blocks nor looks like truncation."""
    build_log(call, entries=12, every=5)
    size = audit_views.tree_size(call.session)
    call.session.commit()
    seen: list[int] = []

    def meanwhile(done: int, total: int | None) -> None:
        _assert_no_write_lock(call.session)
        with Session(db.engine) as other:
            for _ in range(3):
                call.audit.record(other, call.actor, "test.meanwhile", now=call.now())
            call.audit.checkpoint(other, call.now())
            other.commit()
        seen.append(done)

    report = audit_views.verify_live(call, progress=meanwhile)
    assert seen == [size] and report.tree_size == size
    call.session.commit()
    assert audit_views.verify_live(call).tree_size == size + 4  # 3 appends + our audit.verify


def test_bad_parameters_are_problem_json_never_500(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    huge = "9" * 25
    for url in (
        f"/api/v1/audit/entries?after={huge}",
        f"/api/v1/audit/entries?limit={huge}",
        "/api/v1/audit/entries?after=-1",
        "/api/v1/audit/entries?after=%EF%BC%91",  # a full-width digit one
        "/api/v1/audit/entries?limit=1_0",
        "/api/v1/audit/entries?limit=0",
        "/api/v1/audit/entries?from=0001-01-01T00:00:00%2B01:00",
        f"/api/v1/audit/proof/inclusion?seq={huge}",
        "/api/v1/audit/proof/inclusion?seq=+1",
        f"/api/v1/audit/proof/inclusion?seq=1&tree_size={huge}",
        "/api/v1/audit/proof/inclusion?seq=1&tree_size=0",
        f"/api/v1/audit/proof/consistency?first={huge}",
        "/api/v1/audit/proof/consistency?first=2&second=1",
        "/api/v1/reports/audit-trail?from=0001-01-01T00:00:00%2B01:00",
        "/api/v1/reports/audit-trail?to=x",
    ):
        res = client.get(url)
        assert res.status_code in (400, 422), (url, res.status_code)
        assert res.mimetype == "application/problem+json", url


def _actions(session: Any, after: int) -> list[str]:
    session.rollback()
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.seq > after)))


def test_exports_verifications_checkpoints_and_reports_are_audited_browsing_is_not(
    app: Any, client: Any, call: Any
) -> None:
    login_as(app, client, "auditor")
    start = audit_views.tree_size(call.session)
    for url in ("/api/v1/audit/entries", "/api/v1/audit/checkpoints", "/audit",
                "/api/v1/audit/proof/inclusion?seq=1", "/api/v1/audit/public-key"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert _actions(call.session, start) == []
    headers = csrf_headers(client)
    assert client.post("/api/v1/audit/checkpoints", headers=headers).status_code == 201
    assert client.post("/api/v1/audit/verify", headers=headers).json["ok"] is True
    assert client.get("/api/v1/audit/export").status_code == 200
    assert client.get("/api/v1/reports/audit-trail").status_code == 200
    actions = _actions(call.session, start)
    assert actions == ["audit.checkpoint", "audit.verify", "audit.export", "audit.verify",
                       "report.download"]  # fmt: skip
    rows = call.session.scalars(select(AuditEntry).where(AuditEntry.seq > start)).all()
    assert {(r.actor_type, r.actor_role) for r in rows} == {("user", "auditor")}
