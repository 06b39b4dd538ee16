"""Bulk-import throughput: 100,000 synthetic customers from CSV into a fresh database.

Times the same code path as ``governance import FILE`` (the ``import`` job run in the foreground:
validation, normalisation, duplicate detection, a data key per customer, field encryption, blind
indexes, batched commits with one audit entry per batch). Prints rows/s and the created, updated,
rejected and duplicate counts, then reads a few imported customers back through the customer
service to check they decrypt to the normalised input.

    .venv/bin/python bench/import_csv.py                      # SQLite, 100,000 rows
    .venv/bin/python bench/import_csv.py --postgres           # fresh gov_bench_<pid> database
    .venv/bin/python bench/import_csv.py --rows 20000 --database-url postgresql://...

Every row is valid and unique (external_ref, email, phone, resident id, name + birth date), so
all rows should be created. The resident identity numbers follow GB 11643-1999 (check digit and
the birth date of the row).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_db import PG_ADMIN, describe, fresh_postgres

HEADER = ["external_ref", "full_name", "email", "phone", "date_of_birth", "national_id",
          "address_line1", "address_city", "address_postal_code", "country", "language",
          "marketing_email"]  # fmt: skip
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
PREFIXES = ("138", "139", "150", "151", "186", "187", "135", "136", "158", "188")
AREAS = ("110105", "310104", "440106", "510107", "330106")
DAYS = 19_000  # birth dates from 1950-01-01 on; 7919 is prime, so n * 7919 % DAYS cycles all
FIRST_DAY = date(1950, 1, 1)


def resident_id(area: str, born: date, sequence: int) -> str:
    """A GB 11643-valid 18-character resident identity number."""
    body = f"{area}{born:%Y%m%d}{sequence:03d}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def synthetic_rows(rows: int, seed: int = 11) -> list[list[str]]:
    """``rows`` valid customers with unique refs, emails, phones, id numbers, name + birth date."""
    rng = random.Random(seed)
    used: set[tuple[str, date]] = set()
    out = []
    for n in range(1, rows + 1):
        born = FIRST_DAY + timedelta(days=n * 7919 % DAYS)
        sequence = n // DAYS  # (birth date, sequence) is unique per row: so is the id number
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        while (name, born) in used:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) + rng.choice(GIVEN)
        used.add((name, born))
        national_id = resident_id(rng.choice(AREAS), born, sequence) if n % 3 else ""
        out.append([f"B{n:07d}", name, f"user{n}@example.com", f"{rng.choice(PREFIXES)}{n:08d}",
                    born.isoformat(), national_id, f"{n} Chang An Avenue", "Beijing", "100000",
                    "CN", "zh-CN", "yes" if n % 2 else "no"])  # fmt: skip
    return out


def write_csv(path: Path, rows: int, seed: int = 11) -> None:
    """Write the synthetic customers as a CSV file with the import's column names."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(synthetic_rows(rows, seed))


def spot_check(call: Any, source: Path, samples: int = 5) -> str:
    """Read a few imported customers back through the service; compare with the file."""
    from sqlalchemy import select

    from governance.models import Customer
    from governance.services.customers import store as customers

    with source.open(encoding="utf-8", newline="") as fh:
        by_ref = {row["external_ref"]: row for row in csv.DictReader(fh)}
    refs = random.Random(5).sample(sorted(by_ref), min(samples, len(by_ref)))
    for ref in refs:
        index = call.vault.blind_index("external_ref", ref)  # external_ref is encrypted
        query = select(Customer).where(Customer.external_ref_bidx == index)
        found = call.session.scalars(query).one()
        key = call.vault.subject_key(call.session, found.id)
        doc = customers.to_document(call, found, key)
        row = by_ref[ref]
        expected = (row["email"], "+86" + row["phone"], row["date_of_birth"], row["full_name"])
        if (doc["email"], doc["phone"], doc["date_of_birth"], doc["full_name"]) != expected:
            raise SystemExit(f"customer {ref} does not read back as imported")
        if (doc["national_id"] or "") != row["national_id"]:
            raise SystemExit(f"customer {ref} does not read back as imported")
    return f"{len(refs)} sampled customers decrypt to their normalised input"


def run_import(source: Path, rows: int) -> int:
    """Migrate the database, import ``source`` as the CLI does, print the figures; exit status."""
    from flask_migrate import upgrade

    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.jobs import queue as jobs

    app = create_app()
    with app.app_context():
        upgrade()
        call = deps(app).call(db.session)
        job = jobs.submit(call, "import", {"path": str(source), "format": "csv"})
        db.session.commit()
        started = time.perf_counter()
        job = jobs.run(call, job)
        elapsed = time.perf_counter() - started
        result = job.result or {}
        print(
            f"state {job.state}; created {result.get('created', 0):,}, updated "
            f"{result.get('updated', 0):,}, rejected {result.get('rejected', 0):,}, "
            f"duplicates {result.get('duplicates', 0):,}"
        )
        print(
            f"import: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
            "(goal on SQLite: >= 5,000 rows/s)"
        )
        if job.state == "succeeded":
            print(spot_check(call, source))
        db.engine.dispose()
    return 0 if job.state == "succeeded" and result.get("created") == rows else 1


def main() -> None:
    parser = argparse.ArgumentParser(description="bulk import benchmark")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--postgres", action="store_true", help=f"same as --database-url {PG_ADMIN}"
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL admin URL: a fresh database is made next to it"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gov-bench-import-"))
    os.environ.update(
        GOVERNANCE_INSTANCE_PATH=str(work / "instance"),
        GOVERNANCE_DEV="true",
        GOVERNANCE_LOG_LEVEL="WARNING",
    )
    source = work / "customers.csv"
    started = time.perf_counter()
    write_csv(source, args.rows)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    admin = args.database_url or (PG_ADMIN if args.postgres else None)
    with ExitStack() as stack:
        if admin:
            url = stack.enter_context(fresh_postgres(admin))
        else:
            url = f"sqlite:///{work / 'bench.db'}"
        os.environ["GOVERNANCE_DATABASE_URL"] = url
        print(f"database: {describe(url)}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f} at start")  # fmt: skip
        status = run_import(source, args.rows)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
