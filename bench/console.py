"""Console render times: the dashboard, the customer list, the audit trail and the incidents
(p50/p95 server render time, SQL statements per page) over a seeded database, against a
baseline page in the same run (``/account``: the guard, the session and one small page).

    PYTHONPATH=. python bench/console.py                       # SQLite, 20,000 customers
    PYTHONPATH=. python bench/console.py --customers 100000 --entries 1000000
    PYTHONPATH=. python bench/console.py --postgres            # a fresh PostgreSQL database
    PYTHONPATH=. python bench/console.py --keep /tmp/cb ...    # keep the seeded database (and
                                                               # its keys) there; a rerun tops up

Customers are loaded through the demo generator (the normal import path: validated, encrypted,
de-duplicated, audited; the first 5,000 with orders and notes, the rest without); audit entries
are bulk-appended with the ``audit`` library (leaves, hashes and tree nodes computed, then
inserted), as ``bench/audit_log.py`` does. Each page is
requested ``--rounds`` times by a signed-in DPO through the app's test client (no network), so
the time is the server's: guard, policy, the page's queries and the template.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from statistics import median, quantiles
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

HISTORY = 5_000  # customers loaded with orders and notes; the rest alone (the notes' PII screen
# is 90% of the demo loader's time and none of the three pages shows them)
PAGES = {"baseline /account": "/account", "dashboard": "/", "customer list": "/customers",
         "audit trail": "/audit", "incidents": "/incidents"}  # fmt: skip


def bulk_entries(n: int) -> None:
    """Append ``n`` entries after those the log holds: leaves, hashes and tree nodes computed
    with the ``audit`` library, then bulk inserted (as ``bench/audit_log.py`` does)."""
    import json
    from datetime import UTC, datetime

    from audit.entry import Entry
    from audit.hashing import leaf_hash
    from audit.tree import Frontier
    from governance.extensions import db
    from governance.models import AuditEntry, AuditNode, AuditState

    state = db.session.get(AuditState, 1)
    frontier = Frontier.from_json(json.loads(state.frontier)) if state.size else Frontier()
    first = state.size + 1
    ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []

    def flush() -> None:
        if entries:
            db.session.execute(AuditEntry.__table__.insert(), entries)
            db.session.execute(AuditNode.__table__.insert(), nodes)
            db.session.commit()
            entries.clear()
            nodes.clear()

    for seq in range(first, first + n):
        entry = Entry(seq=seq, timestamp=ts, actor_type="system", action="bench.bulk",
                      outcome="allowed", details={"i": seq})  # fmt: skip
        leaf = entry.leaf()
        digest = leaf_hash(leaf)
        entries.append({"seq": seq, "timestamp": ts, "actor_id": None, "actor_type": "system",
                        "actor_role": None, "action": "bench.bulk", "resource": None,
                        "subject_id": None, "purpose": None, "outcome": "allowed",
                        "leaf": leaf.decode(), "leaf_hash": digest})  # fmt: skip
        nodes.extend({"level": lv, "idx": ix, "hash": h} for lv, ix, h in frontier.append(digest))
        if len(entries) >= 20_000:
            flush()
    flush()
    state = db.session.get(AuditState, 1)
    state.size = first + n - 1
    state.frontier = json.dumps(frontier.to_json(), separators=(",", ":"))
    db.session.commit()


US_AREAS = ("202", "212", "312", "415", "617", "713", "206", "303", "404", "512", "305", "602")


def customers_from(start: int, count: int) -> Any:
    """Demo customers numbered ``start`` onwards (``demo.generate`` always numbers from 1, and
    the import would refuse a second ``CRM-0000001`` as a duplicate)."""
    import random

    from faker import Faker

    from governance.services.customers.demo import LOCALES, fake_customer

    seed = 1_000_003 + start  # never a seed ``load_demo`` used: other names, birth dates, phones
    rng = random.Random(seed)
    fakers = {}
    for locale, *_ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    for index in range(start, start + count):
        doc = fake_customer(rng, fakers, index)
        if doc.get("phone") and doc["country"] != "CN":  # the demo's repeat every 10,000
            k, n = index // 10_000, index % 10_000
            phones = {"US": f"+1 {US_AREAS[k % len(US_AREAS)]} 555 {n:04d}",
                      "GB": f"+44 20 7{(946 + k) % 1000:03d} {n:04d}",
                      "DE": f"+49 30 90{(18 + k) % 100:02d}{n:04d}"}  # fmt: skip
            doc["phone"] = phones[doc["country"]]
        yield doc


def seed_incidents(call: Any, wanted: int) -> None:
    """Top up to ``wanted`` incidents, each with three affected customers (so its notification
    tasks and countdowns exist), aware of it over the last ``wanted`` hours."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from governance.models import Customer, Incident
    from governance.services.breach import incidents

    have = call.session.scalar(select(func.count()).select_from(Incident)) or 0
    ids = list(call.session.scalars(select(Customer.id).limit(3 * max(wanted, 1))))
    now = call.now()
    for n in range(have, wanted):
        detected = now - timedelta(hours=n + 2)
        incidents.create(call, {
            "title": f"Bench incident {n + 1}", "description": "synthetic, for bench/console.py",
            "detected_at": incidents.iso(detected),
            "aware_at": incidents.iso(detected + timedelta(minutes=30)),
            "customer_ids": ids[3 * n % len(ids):][:3]})  # fmt: skip
    call.session.commit()


def seed(app: Any, customers: int, entries: int, incidents: int = 0) -> None:
    """Top the database up to ``customers`` customers and ``entries`` bulk audit entries (a kept
    database from an earlier run only gets what it lacks)."""
    from sqlalchemy import func, select

    from governance.bootstrap import deps
    from governance.database import LOADED_TABLES, refresh_statistics
    from governance.extensions import db
    from governance.models import AuditEntry, Customer
    from governance.services.auditlog.integrator import integrate_pending
    from governance.services.customers.demo import load_demo
    from governance.services.customers.imports import Importer

    with app.app_context():
        call = deps(app).call(db.session)
        integrate_pending(db.engine, call.audit)
        bulk = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "bench.bulk")
        )
        if entries > bulk:
            bulk_entries(entries - bulk)
        done = db.session.scalar(select(func.count()).select_from(Customer)) or 0
        started = time.perf_counter()
        # The next customer number: a clash with a stored one would update it, not add one, so a
        # top-up of a kept database numbers from 1,000,000 on (a first run stays below that).
        number = (HISTORY if done == 0 else 1_000_000 + done) + 1
        while done < customers:
            batch = min(5_000, customers - done)
            if done == 0:  # orders and notes (PII-screened) for the first ones, as a demo
                load_demo(call, min(batch, HISTORY), seed=1)
            else:  # then customers alone, through the same import path: what the pages show
                importer = Importer(call)
                rows = list(enumerate(customers_from(number, batch), start=1))
                number += batch
                for at in range(0, len(rows), 500):
                    importer.batch(rows[at : at + 500])
                    db.session.commit()
                refused = {k: v for k, v in importer.report.items() if k != "rows" and v}
                print(f"    import report: {refused}", flush=True)
            db.session.commit()
            done = db.session.scalar(select(func.count()).select_from(Customer)) or 0
            print(f"  {done:,} customers ({time.perf_counter() - started:.0f} s)", flush=True)
        if incidents:
            seed_incidents(call, incidents)
        integrate_pending(db.engine, call.audit)
        # as an import job does after a bulk load (PostgreSQL's planner statistics)
        refresh_statistics(db.session.connection(), customers, (*LOADED_TABLES, "audit_entries"))
        db.session.commit()


def kept_postgres(name: str = "gov_bench_console") -> str:
    """A PostgreSQL database that outlives the run (``--postgres --keep``), made if missing."""
    import psycopg
    from bench_db import PG_ADMIN, _libpq
    from sqlalchemy.engine import make_url

    admin = _libpq(PG_ADMIN)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def measure(app: Any, client: Any, path: str, rounds: int) -> tuple[list[float], int]:
    from sqlalchemy import event

    from governance.extensions import db

    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    times = []
    client.get(path)  # warm: templates compiled, caches filled
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            res = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert res.status_code == 200, (path, res.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return times, round(statements / rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the seeded database and keys here")
    args = parser.parse_args()

    from bench_db import describe, fresh_postgres
    from conftest import _migrate, login_as, make_app

    with ExitStack() as stack:
        tmp = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        tmp.mkdir(parents=True, exist_ok=True)
        if args.postgres and args.keep:
            url = kept_postgres()
        elif args.postgres:
            url = stack.enter_context(fresh_postgres())
        else:
            url = f"sqlite:///{tmp}/b.db"
        if args.postgres:
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        _migrate(url, tmp / "instance")
        app = make_app(url, tmp / "instance")
        print(f"database: {describe(url)}; seeding {args.customers:,} customers, "
              f"{args.entries:,} audit entries and {args.incidents} incidents",
              flush=True)  # fmt: skip
        started = time.perf_counter()
        seed(app, args.customers, args.entries, args.incidents)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        client = app.test_client()
        login_as(app, client, "dpo", f"bench-dpo-{time.time_ns()}@example.com")  # new per run
        rows = {}
        for name, path in PAGES.items():
            times, statements = measure(app, client, path, args.rounds)
            p95 = quantiles(times, n=20)[-1]
            rows[name] = (median(times), p95, statements)
        base = rows["baseline /account"][0]
        print(f"\n{'page':<20}{'p50 ms':>9}{'p95 ms':>9}{'x base':>8}{'SQL/page':>10}")
        for name, (p50, p95, statements) in rows.items():
            print(f"{name:<20}{p50:>9.1f}{p95:>9.1f}{p50 / base:>8.1f}{statements:>10}")
        with app.app_context():
            from governance.extensions import db

            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
