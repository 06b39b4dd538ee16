"""Purpose limitation and the consent ledger: what the consent check costs, and bulk recording.

    .venv/bin/python bench/consent.py                  # SQLite (fresh database in a temp folder)
    .venv/bin/python bench/consent.py --postgres       # PostgreSQL: a fresh gov_bench_<pid> db

In one process and one run, against the same data (``--customers`` demo customers, half of
them with a consent for ``marketing_email``), through the whole app in process (WSGI, no
network: the guard, Casbin, the governed read, the audit entry and the commit):
  * a governed read by id and a list page (limit=50) declaring ``marketing_email``, with the
    consent check, and the same requests with the check switched off (a bench-only patch that
    makes ``services/consent`` allow every subject): the ratio is the check's cost;
  * the statements each read issues, with and without the check (the check may add one);
  * recording ``--events`` consent events in bulk (``services/consent/bulk.py``, batches of
    1,000, one transaction each, an audit entry per event queued as under ``governance serve``)
    in events/s, then integrating their audit entries into the Merkle tree (entries/s).
Rounds are interleaved (``--rounds``, default 3) and the median is printed; ``--cpu`` times by
this process's CPU time instead of the wall clock (for a loaded machine). A benchmark, not a
test: it never fails on a threshold.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_db import PG_ADMIN, describe, fresh_postgres  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def setup(customers: int) -> tuple[Any, list[str], list[str], str]:
    """Migrate, load customers, grant marketing_email to every other one; (app, consented ids,
    all ids, crm token)."""
    from flask_migrate import upgrade

    from governance import create_app
    from governance.bootstrap import deps, register_key_versions
    from governance.database import refresh_statistics
    from governance.extensions import db
    from governance.models import Customer
    from governance.services.consent import bulk
    from governance.services.customers.demo import generate
    from governance.services.customers.imports import Importer
    from governance.services.identity import service_accounts

    app = create_app()
    with app.app_context():
        upgrade()
        call = deps(app).call(db.session)
        register_key_versions(call)
        importer = Importer(call)
        rows = list(enumerate(generate(customers, seed=5), start=1))
        for start in range(0, len(rows), 500):
            importer.batch(rows[start : start + 500])
            db.session.commit()
        ids = list(db.session.scalars(db.select(Customer.id).order_by(Customer.id)))
        consented = ids[::2]
        for start in range(0, len(consented), 1000):
            events = [{"customer_id": cid, "purpose": "marketing_email", "action": "grant",
                       "source": "import", "notice_version": "1"}
                      for cid in consented[start : start + 1000]]  # fmt: skip
            bulk.record_events(call, {"events": events})
            db.session.commit()
        refresh_statistics(db.session.connection(), len(rows))  # as an import job does
        account = service_accounts.service_account(call, "bench", ["crm_app"])
        token = service_accounts.create_token(call, account)
        db.session.commit()
    return app, consented, ids, token


class Switch:
    """The bench-only patch: with ``off``, the consent check allows every subject (a direct
    read loads its row without the check's columns, a list has no consent filter)."""

    def __init__(self) -> None:
        from governance.services.customers import reads

        self.reads = reads
        self.load_one = reads.load_one
        self.list_statement = reads._list_statement

    def off(self) -> None:
        load_one = self.load_one
        list_statement = self.list_statement

        def unchecked(
            call: Any, customer_id: str, *, check: Any = None, marketing: bool = False
        ) -> Any:
            return load_one(call, customer_id, marketing=marketing)

        def unfiltered(filters: tuple[str, ...], purpose: str | None, after: bool) -> Any:
            return list_statement(filters, None, after)

        self.reads.load_one = unchecked  # type: ignore[assignment]
        self.reads._list_statement = unfiltered  # type: ignore[assignment]

    def on(self) -> None:
        self.reads.load_one = self.load_one  # type: ignore[assignment]
        self.reads._list_statement = self.list_statement  # type: ignore[assignment]


CLOCK = time.perf_counter


def rate(client: Any, paths: list[str], headers: dict[str, str]) -> float:
    """Requests per second over ``paths`` (each answered 200), by ``CLOCK``."""
    started = CLOCK()
    for path in paths:
        res = client.get(path, headers=headers)
        if res.status_code != 200:
            raise SystemExit(f"{path}: {res.status_code} {res.get_data(as_text=True)[:200]}")
    return len(paths) / (CLOCK() - started)


def statements(app: Any, fn: Callable[[], Any]) -> int:
    from sqlalchemy import event

    from governance.extensions import db

    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def bulk_events(app: Any, ids: list[str], total: int) -> tuple[float, float]:
    """(events/s recorded, audit entries/s integrated) for ``total`` withdrawals and grants."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.auditlog.integrator import integrate_pending
    from governance.services.consent import bulk

    audit = deps(app).audit
    audit.inline = False  # as under `governance serve`: the integrator sequences the log
    with app.app_context():
        call = deps(app).call(db.session)
        started = time.perf_counter()
        for start in range(0, total, 1000):
            events = [{"customer_id": ids[(start + i) % len(ids)], "purpose": "marketing_sms",
                       "action": "grant" if (start + i) // len(ids) % 2 == 0 else "withdraw",
                       "source": "import", "notice_version": "1"}
                      for i in range(min(1000, total - start))]  # fmt: skip
            bulk.record_events(call, {"events": events})
            db.session.commit()
        recorded = total / (time.perf_counter() - started)
        started = time.perf_counter()
        integrated = 0
        while True:
            done = integrate_pending(db.engine, audit)
            if not done:
                break
            integrated += done
        per_second = integrated / (time.perf_counter() - started) if integrated else 0.0
    audit.inline = True
    return recorded, per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time by this process's CPU time (on a shared, loaded machine; SQLite runs in this "
        "process, PostgreSQL's own CPU is then not counted)",
    )
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    logging.disable(logging.WARNING)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-consent-")))
        url = args.database_url
        if args.postgres and not url:
            url = stack.enter_context(fresh_postgres(PG_ADMIN))
        os.environ.update({
            "GOVERNANCE_DATABASE_URL": url or f"sqlite:///{work / 'bench.db'}",
            "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
            "GOVERNANCE_DEV": "true",
            "GOVERNANCE_LOG_LEVEL": "WARNING",
            "GOVERNANCE_RATE_LIMIT": "1000000 per minute",
            "GOVERNANCE_LOOKUP_RATE_LIMIT": "1000000 per minute",
        })  # fmt: skip
        app, consented, ids, token = setup(args.customers)
        database = describe(os.environ["GOVERNANCE_DATABASE_URL"])
        print(f"database: {database}; {len(ids)} customers, {len(consented)} with consent")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "marketing_email"}
        reads_paths = [f"/api/v1/customers/{consented[i % len(consented)]}"
                       for i in range(args.requests)]  # fmt: skip
        list_paths = ["/api/v1/customers?limit=50"] * max(1, args.requests // 10)
        switch = Switch()
        rate(client, reads_paths[:50], headers)  # warm up
        results: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, paths in (("read by id", reads_paths), ("list page (limit=50)", list_paths)):
                switch.off()
                without = rate(client, paths, headers)
                switch.on()
                with_check = rate(client, paths, headers)
                results.setdefault(f"{name} without check", []).append(without)
                results.setdefault(f"{name} with check", []).append(with_check)
                results.setdefault(f"{name} ratio", []).append(with_check / without)
        for name in ("read by id", "list page (limit=50)"):
            print(f"{name}: {median(results[name + ' with check']):.0f} req/s with the consent "
                  f"check, {median(results[name + ' without check']):.0f} without; ratio "
                  f"{median(results[name + ' ratio']):.3f} (rounds: "
                  + ", ".join(f"{r:.3f}" for r in results[name + " ratio"]) + ")")  # fmt: skip
        one = reads_paths[0]
        switch.off()
        plain = statements(app, lambda: client.get(one, headers=headers))
        plain_list = statements(app, lambda: client.get(list_paths[0], headers=headers))
        switch.on()
        checked = statements(app, lambda: client.get(one, headers=headers))
        checked_list = statements(app, lambda: client.get(list_paths[0], headers=headers))
        print(f"statements per read: {checked} with the check, {plain} without; per list page: "
              f"{checked_list} with, {plain_list} without")  # fmt: skip
        recorded, integrated = bulk_events(app, ids, args.events)
        print(f"bulk: {args.events:,} consent events recorded at {recorded:,.0f} events/s "
              f"(batches of 1,000, one audit entry each); audit integration {integrated:,.0f} "
              "entries/s")  # fmt: skip


if __name__ == "__main__":
    main()
