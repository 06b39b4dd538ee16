"""Access-export benchmark: one customer with 1,000 audit entries among 1,000,000.

    .venv/bin/python bench/access_export.py [--entries 1000000] [--mine 1000] [--postgres]

A fresh database is migrated; one real customer is created through the service (encrypted,
with a data key); then ``--entries`` audit entries are bulk-inserted (with their subject-index
rows), ``--mine`` of them naming that customer, spread through the log, the others naming
random ids. Measured: the "who read my data" lookup (``services/requests/accesses.py``) and the
whole export build (collect, decrypt, JSON, CSV, PDF summary, ZIP), in seconds, and the query
plan, which must use the subject index (``ix_audit_subjects_customer_seq``), never a scan of
``audit_entries``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
QID = 10**9  # bulk queue ids, far above the ones the queue hands out


def fill(session: object, target: str, entries: int, mine: int) -> None:
    """Bulk entries after the log's own (seq) with queue ids far above the queue's (qid); the
    tree is not extended (the lookup reads entries, not nodes)."""
    from sqlalchemy import func, insert, select

    from governance.models import AuditEntry, AuditSubject
    from governance.models.ids import new_id

    chosen = set(random.Random(7).sample(range(entries), mine))
    others = [new_id() for _ in range(5000)]
    batch = 20_000
    base = session.scalar(select(func.max(AuditEntry.seq))) or 0  # type: ignore[attr-defined]
    for start in range(0, entries, batch):
        rows, subjects = [], []
        for n in range(start, min(start + batch, entries)):
            seq = base + n + 1
            subject = target if n in chosen else others[n % len(others)]
            leaf = json.dumps({"action": "customer.read", "subject_id": subject,
                               "details": {"fields": {"email": "masked"}}})  # fmt: skip
            rows.append({"seq": seq, "timestamp": "2026-12-01T00:00:00.000000Z",
                         "actor_id": "bench", "actor_type": "user", "actor_role": "support",
                         "action": "customer.read", "resource": "customers",
                         "subject_id": subject, "purpose": "support", "outcome": "allowed",
                         "leaf": leaf, "leaf_hash": os.urandom(32), "qid": QID + seq})  # fmt: skip
            subjects.append({"qid": QID + seq, "seq": seq, "customer_id": subject})
        session.execute(insert(AuditEntry), rows)  # type: ignore[attr-defined]
        session.execute(insert(AuditSubject), subjects)  # type: ignore[attr-defined]
        session.commit()  # type: ignore[attr-defined]


def explain(session: object, target: str) -> str:
    from sqlalchemy import text

    from governance.services.requests.accesses import entries_query

    query = entries_query(target)
    bind = session.get_bind()  # type: ignore[attr-defined]
    compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if bind.dialect.name == "sqlite" else "EXPLAIN "
    rows = session.execute(text(prefix + str(compiled))).all()  # type: ignore[attr-defined]
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--mine", type=int, default=1_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    from flask_migrate import upgrade
    from sqlalchemy import text

    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import Customer
    from governance.services.customers import store
    from governance.services.requests import exports
    from governance.services.requests.accesses import accesses

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.postgres:
            from bench_db import fresh_postgres

            url = stack.enter_context(fresh_postgres())
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "i"), "DEV": True})
        with app.app_context():
            upgrade()
            call = deps(app).call(db.session)
            call.audit.inline = False  # the bulk entries are not in the tree: do not extend it
            store.create_customer(call, {"full_name": "Bench Person", "email": "b@example.com",
                                         "country": "CN", "language": "zh-CN"})  # fmt: skip
            db.session.commit()
            target = db.session.scalar(text("SELECT id FROM customers"))
            db.session.execute(text("DELETE FROM audit_subjects"))  # its creation entry aside
            db.session.commit()
            started = time.perf_counter()
            fill(db.session, target, args.entries, args.mine)
            filled = time.perf_counter() - started
            if args.postgres:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            else:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            t0 = time.perf_counter()
            found = list(accesses(db.session, target))
            t1 = time.perf_counter()
            data = exports.collect(call, target)
            content = exports.build_zip(data, "zh")
            t2 = time.perf_counter()
            plan = explain(db.session, target)
            db.session.rollback()
            assert db.session.get(Customer, target) is not None
            db.engine.dispose()
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"access export, {kind}: {args.mine:,} entries of one customer among "
          f"{args.entries:,} (filled in {filled:.0f} s)")  # fmt: skip
    print(f"who-read-my-data lookup: {len(found):,} entries in {t1 - t0:.3f} s")
    print(f"whole export (collect + JSON + CSV + PDF + ZIP, {len(content):,} bytes): "
          f"{t2 - t1:.2f} s")  # fmt: skip
    print("query plan:")
    print(plan)
    uses_index = "ix_audit_subjects_customer" in plan
    print(f"uses the subject index: {'yes' if uses_index else 'NO'}")


if __name__ == "__main__":
    main()
