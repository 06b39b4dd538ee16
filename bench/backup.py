"""Backup and verification by restore: seconds, MB/s and peak memory, 10,000 and 100,000 customers.

    .venv/bin/python bench/backup.py                       # SQLite, 10k and 100k customers
    .venv/bin/python bench/backup.py --postgres            # PostgreSQL (a fresh gov_bench_<pid>)
    .venv/bin/python bench/backup.py --sizes 10000         # one size only

For each size: a fresh, migrated database (dev keys in a temporary instance folder) is filled
with customers that have all their fields encrypted under their own data keys (AES-256-GCM, as
the server writes them), two orders each (items and comment encrypted) and one note each, bulk
inserted (the setup is not measured). Then ``governance backup create`` and ``governance backup
verify --latest`` run as separate processes, each timed; their peak resident memory is
``ru_maxrss`` of that process (``os.wait4``; pg_dump/pg_restore are separate processes and not
counted). MB/s is the database size (SQLite file, or ``pg_database_size``) over the seconds.
Prints the verify/backup ratio (the issue's target: at most 3x). A benchmark, not a test: it
never fails on a threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_db import PG_ADMIN, describe, fresh_postgres

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5000


def fill(url: str, instance: Path, count: int) -> None:
    """Migrate, then bulk insert ``count`` customers with orders and notes (encrypted)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import Customer, DataKey, Interaction, Order, new_id

    config = {"DEV": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
              "LOG_LEVEL": "WARNING"}  # fmt: skip
    app = create_app(config)
    with app.app_context():
        upgrade()
    app = create_app(config)
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        vault = deps(app).vault
        for first in range(0, count, BATCH):
            people, keys, orders, notes = [], [], [], []
            for n in range(first, min(first + BATCH, count)):
                cid = new_id()
                cipher, key_row = vault.new_subject_key(cid)
                keys.append(key_row)

                def seal(table: str, column: str, value: Any, row: str | None = None) -> Any:
                    return vault.seal(cipher, table, column, cid, value, row)  # noqa: B023

                people.append({
                    "id": cid, "full_name_ct": seal("customers", "full_name", f"Bench Person {n}"),
                    "email_ct": seal("customers", "email", f"bench.person{n}@example.org"),
                    "phone_ct": seal("customers", "phone", f"+86138{n:08d}"),
                    "date_of_birth_ct": seal("customers", "date_of_birth", "1980-01-01"),
                    "address_ct": seal("customers", "address",
                                       {"line1": f"{n} Bench Road", "city": "Hangzhou"}),
                    "email_bidx": rng.randbytes(16), "phone_bidx": rng.randbytes(16),
                    "country": "CN", "language": "zh-CN", "marketing": {"email": n % 2 == 0},
                    "created_at": now, "updated_at": now,
                })  # fmt: skip
                for k in range(2):
                    oid = new_id()
                    orders.append({
                        "id": oid, "customer_id": cid, "ordered_at": now,
                        "amount": Decimal(rng.randint(100, 99999)) / 100, "currency": "CNY",
                        "items_legacy": [],
                        "items_ct": seal("orders", "items", [{"sku": f"SKU-{k}", "qty": 1}], oid),
                        "comment_ct": seal("orders", "comment", "deliver after 6pm", oid),
                        "created_at": now, "updated_at": now,
                    })  # fmt: skip
                iid = new_id()
                notes.append({
                    "id": iid, "customer_id": cid, "channel": "phone", "occurred_at": now,
                    "note_ct": seal("interactions", "note",
                                    f"Called about order; prefers email bench.person{n}", iid),
                    "created_at": now, "updated_at": now,
                })  # fmt: skip
            db.session.execute(insert(DataKey), keys)
            db.session.execute(insert(Customer), people)
            db.session.execute(insert(Order), orders)
            db.session.execute(insert(Interaction), notes)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def run_cli(env: dict[str, str], *args: str) -> tuple[float, int, str]:
    """Run ``governance ARGS`` as a process: (seconds, peak RSS in KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from governance.cli import main; main()", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"governance {' '.join(args)} failed ({proc.returncode}):\n{out}")
    return elapsed, int(usage.ru_maxrss), out


def worked(out: str) -> float:
    """The seconds the command reports for its work (``… in 12.34 s``): start-up excluded."""
    found = re.findall(r" in ([0-9.]+) s$", out, re.M)
    return float(found[-1])


def database_bytes(url: str) -> int:
    if url.startswith("sqlite"):  # pages in use (the WAL may still hold recent ones)
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            return int(pages) * int(conn.execute("PRAGMA page_size").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def bench_size(count: int, postgres: bool, admin: str) -> dict[str, Any]:
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gov-bench-")))
        url = stack.enter_context(fresh_postgres(admin)) if postgres else \
            f"sqlite:///{work / 'governance.db'}"  # fmt: skip
        start = time.perf_counter()
        fill(url, work / "instance", count)
        setup = time.perf_counter() - start
        env = {**os.environ, "GOVERNANCE_DATABASE_URL": url, "PYTHONPATH": str(ROOT),
               "GOVERNANCE_INSTANCE_PATH": str(work / "instance"), "GOVERNANCE_DEV": "1",
               "GOVERNANCE_LOG_LEVEL": "WARNING"}  # fmt: skip
        size = database_bytes(url)
        startup_s, startup_rss, _ = run_cli(env, "backup", "list")  # the process alone
        backup_total, backup_rss, out = run_cli(env, "backup", "create")
        backup_s = worked(out)
        backup_id = out.strip().splitlines()[-1]
        folder = work / "instance" / "backups"
        file_size = (folder / f"{backup_id}.backup").stat().st_size
        verify_total, verify_rss, out = run_cli(env, "backup", "verify", backup_id)
        verify_s = worked(out)
        manifest = json.loads((folder / f"{backup_id}.manifest.json").read_text())
        assert manifest["tables"]["customers"]["rows"] == count
        return {"customers": count, "database": describe(url), "setup_s": setup,
                "startup_s": startup_s, "startup_rss_mb": startup_rss / 1024,
                "db_mb": size / 1e6, "file_mb": file_size / 1e6, "backup_s": backup_s,
                "verify_s": verify_s, "backup_total": backup_total, "verify_total": verify_total,
                "backup_rss_mb": backup_rss / 1024,
                "verify_rss_mb": verify_rss / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--admin-url", default=PG_ADMIN)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    rows = [bench_size(int(n), args.postgres, args.admin_url) for n in args.sizes.split(",")]
    print(f"backup and verify-by-restore, {rows[0]['database'].split(' ')[0]}")
    print("seconds: the work as each command reports it (start-up of the process excluded)")
    print(f"{'customers':>10} {'db MB':>8} {'file MB':>8} {'backup s':>9} {'MB/s':>7} "
          f"{'verify s':>9} {'MB/s':>7} {'verify/backup':>13} {'RSS backup':>11} "
          f"{'RSS verify':>11} {'RSS idle':>9}")  # fmt: skip
    for r in rows:
        b, v = r["backup_s"], r["verify_s"]
        print(f"{r['customers']:>10,} {r['db_mb']:>8.1f} {r['file_mb']:>8.1f} "
              f"{b:>9.2f} {r['db_mb'] / b:>7.1f} {v:>9.2f} {r['db_mb'] / v:>7.1f} "
              f"{v / b:>12.2f}x {r['backup_rss_mb']:>8.0f} MB {r['verify_rss_mb']:>8.0f} MB "
              f"{r['startup_rss_mb']:>6.0f} MB")  # fmt: skip
    print("whole process (start-up included): " + "; ".join(
        f"{r['customers']:,}: backup {r['backup_total']:.1f} s, verify {r['verify_total']:.1f} s"
        for r in rows))  # fmt: skip
    print("(setup, not measured: " + ", ".join(f"{r['setup_s']:.0f} s" for r in rows) + ")")


if __name__ == "__main__":
    main()
