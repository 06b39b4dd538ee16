""" "Everything this actor read in this window" walks the (actor_id, timestamp) index of the audit
log, on SQLite and on PostgreSQL (EXPLAIN of the analysis's own query)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from governance.services.breach.analysis import actor_reads


def _plan(call: Any) -> str:
    query = actor_reads(
        "01a2-actor",
        "2026-01-01T00:00:00.000000Z",
        "2026-02-01T00:00:00.000000Z",
        "2026-01-01T00:00:00.000000Z",
        5000,
    )
    compiled = query.compile(call.session.get_bind(), compile_kwargs={"literal_binds": True})
    dialect = call.session.get_bind().dialect.name
    if dialect == "postgresql":
        # a tiny test table would be scanned whole; what matters is that the index serves the
        # query, which the planner shows once a sequential scan is not an option
        call.session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = call.session.execute(text(f"EXPLAIN {compiled}")).all()
        return "\n".join(str(r[0]) for r in rows)
    rows = call.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_the_actor_scope_uses_the_actor_time_index(call: Any) -> None:
    plan = _plan(call)
    assert "ix_audit_entries_actor_time" in plan, plan
