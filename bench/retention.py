"""Retention benchmark: plan and run over N customers with an order and a note each.

    .venv/bin/python bench/retention.py [--sizes 10000 100000] [--postgres]

For each size a fresh database (SQLite file, or a PostgreSQL database dropped afterwards) is
migrated and filled with bulk inserts: N customers inactive for four years (ciphertext columns
hold random bytes; the sweep never decrypts), each with a data key, an order and an interaction.
A child process then runs ``retention plan`` and the sweep (the ``retention.sweep`` job, batches
of 500 subjects per transaction, each removal recorded and audited) and reports its own peak RSS,
so the figures of 10,000 and 100,000 can be compared: subjects/s and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CHILD = r"""
import json, resource, sys, time
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
from governance.services.jobs import queue
from governance.services.retention import sweep

app = create_app()
with app.app_context():
    call = deps(app).call(db.session)
    t0 = time.perf_counter()
    plan = sweep.plan(call)
    t1 = time.perf_counter()
    db.session.rollback()
    job = sweep.start(call, foreground=True)
    db.session.commit()
    job = queue.run(call, job)
    t2 = time.perf_counter()
    print(json.dumps({
        "planned": sum(r["count"] for r in plan["rules"]),
        "plan_s": t1 - t0, "run_s": t2 - t1, "state": job.state,
        "removed": (job.result or {}).get("total"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
"""


def fill(url: str, instance: Path, n: int) -> None:
    """Migrate and bulk-insert N inactive customers with an order and an interaction each."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from governance import create_app
    from governance.extensions import db
    from governance.models import Customer, DataKey, Interaction, Order
    from governance.models.ids import new_id

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "DEV": True})
    old = datetime.now(UTC) - timedelta(days=4 * 365)
    with app.app_context():
        upgrade()
        for start in range(0, n, 5000):
            ids = [new_id() for _ in range(min(5000, n - start))]
            db.session.execute(insert(Customer), [
                {"id": i, "full_name_ct": os.urandom(48), "email_ct": os.urandom(48),
                 "email_bidx": os.urandom(16), "country": "CN", "marketing": {},
                 "created_at": old, "updated_at": old} for i in ids])  # fmt: skip
            db.session.execute(insert(DataKey), [
                {"subject_id": i, "key_id": os.urandom(8), "kek_version": 1,
                 "wrapped": os.urandom(60), "created_at": old} for i in ids])  # fmt: skip
            db.session.execute(insert(Order), [
                {"id": new_id(), "customer_id": i, "ordered_at": old, "amount": "9.90",
                 "currency": "CNY", "items_legacy": [], "items_ct": os.urandom(40),
                 "created_at": old, "updated_at": old} for i in ids])  # fmt: skip
            db.session.execute(insert(Interaction), [
                {"id": new_id(), "customer_id": i, "channel": "email", "occurred_at": old,
                 "note_ct": os.urandom(64), "created_at": old} for i in ids])  # fmt: skip
            db.session.commit()
        db.engine.dispose()


def measure(n: int, postgres: bool) -> dict[str, float]:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if postgres:
            from bench_db import fresh_postgres

            url = stack.enter_context(fresh_postgres())
        else:
            url = f"sqlite:///{tmp / 'bench.db'}"
        started = time.perf_counter()
        fill(url, tmp / "instance", n)
        filled = time.perf_counter() - started
        env = {**os.environ, "GOVERNANCE_DATABASE_URL": url, "GOVERNANCE_INSTANCE_PATH":
               str(tmp / "instance"), "GOVERNANCE_DEV": "true",
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}  # fmt: skip
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                             text=True, check=True)  # fmt: skip
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        result["fill_s"] = filled
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"retention plan and run, {kind} (customers with an order and a note each)")
    print(f"{'customers':>10} {'plan s':>8} {'run s':>8} {'subjects/s':>11} {'peak RSS MB':>12}")
    rows = []
    for n in args.sizes:
        r = measure(n, args.postgres)
        rows.append(r)
        rate = r["removed"] / r["run_s"] if r["run_s"] else 0
        print(f"{n:>10,} {r['plan_s']:>8.2f} {r['run_s']:>8.1f} {rate:>11,.0f} "
              f"{r['peak_rss_mb']:>12.0f}", flush=True)  # fmt: skip
    if len(rows) > 1:
        print(f"peak RSS ratio {args.sizes[-1]:,} / {args.sizes[0]:,}: "
              f"{rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f} (flat is 1.0)")  # fmt: skip


if __name__ == "__main__":
    main()
