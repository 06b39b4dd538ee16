"""Benchmark of field-level encryption in the running server (issue 4), printing figures only.

(a) encrypt+decrypt of a 10-field record (the core, as in bench/crypto_core.py);
(b) governed reads with and without decryption, in one run, as a ratio: the same service call
    (``reads.read_customer``: load the row, masking, audit append, commit) and the same HTTP
    route (``GET /api/v1/customers/{id}`` through the Flask test client, token auth and policy
    included), once with the real vault and once with a vault that still fetches the subject's
    key row but neither unwraps it nor opens any field (AES-GCM is the only thing left out);
(c) an exact e-mail lookup by blind index vs the same lookup on a plaintext indexed column (a
    scratch table in the same database, dropped afterwards);
(d) a KEK rotation of 100,000 data keys on SQLite: rows bulk-inserted, then the real rotation
    job (``keys.rotate``: re-wrap in batches of 1,000, a commit per batch).

Run: ``python bench/crypto.py [--customers N] [--reads N] [--deks N] [--only abcd]
[--postgres | --database-url URL]``.
Without ``--database-url`` everything runs on a fresh SQLite file in a temporary folder; with a
PostgreSQL URL (an empty database) (b) to (d) run there.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_db import PG_ADMIN, fresh_postgres
from crypto_core import RECORD, open_record, per_call_us, seal_record
from sqlalchemy import insert, select, text

from governance import create_app
from governance.bootstrap import deps
from governance.context import Actor, Purpose
from governance.crypto import FieldCipher, LocalKeySource, new_data_key, new_data_key_id
from governance.extensions import db
from governance.models import Customer, DataKey
from governance.services.customers import reads as customer_reads
from governance.services.customers import store as customers
from governance.services.identity import service_accounts
from governance.services.jobs import queue as jobs
from governance.services.keys import rotation as keys
from governance.services.keys.vault import Vault

READER = Actor(id="bench", type="service", roles=("crm_app",))


class SealedVault(Vault):
    """The same vault minus the cryptography: the key row is fetched, nothing is decrypted."""

    def subject_key(self, session: Any, subject_id: str) -> Any:
        return session.get(DataKey, subject_id)

    def unwrap_rows(self, rows: Any) -> dict[str, Any]:
        return {row.subject_id: row for row in rows}

    def open(self, key: Any, table: str, column: str, subject_id: str, blob: Any,
             structured: bool = False, row_id: str | None = None) -> Any:  # fmt: skip
        if blob is None:
            return None
        return {} if structured else "sealed"


def make_app(url: str, instance: Path) -> Any:
    from flask_migrate import upgrade

    app = create_app({"DEV": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                      "LOG_LEVEL": "WARNING", "RATE_LIMIT": "100000000 per minute"})  # fmt: skip
    with app.app_context():
        upgrade()
    return create_app({"DEV": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance),
                       "LOG_LEVEL": "WARNING", "RATE_LIMIT": "100000000 per minute"})  # fmt: skip


def bench_record(repeat: int) -> None:
    cipher = FieldCipher(new_data_key(), new_data_key_id())
    assert open_record(cipher, seal_record(cipher)) == RECORD
    us = per_call_us(lambda: open_record(cipher, seal_record(cipher)), repeat)
    print(f"(a) encrypt+decrypt, 10-field record : {us:9.1f} µs/record")


def load_customers(app: Any, count: int) -> tuple[list[str], list[str]]:
    """Create ``count`` customers through the service; returns their ids and e-mails."""
    ids, emails = [], []
    with app.app_context():
        call = deps(app).call(db.session)
        for n in range(count):
            email = f"bench.person{n}@example{n % 97}.org"
            customers.create_customer(call, {
                "full_name": f"Bench Person {n}", "email": email, "phone": f"+86138{n:08d}",
                "date_of_birth": "1980-01-01", "country": "CN",
                "address": {"line1": f"{n} Bench Road", "city": "Hangzhou"}})  # fmt: skip
            emails.append(email)
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    return ids, emails


def interleaved(a: Callable[[], None], b: Callable[[], None], rounds: int) -> tuple[float, float]:
    """Seconds of A and of B, alternating A/B in ``rounds`` rounds so drift hits both alike."""
    spent = [0.0, 0.0]
    for _ in range(rounds):
        for i, fn in enumerate((a, b)):
            start = time.perf_counter()
            fn()
            spent[i] += time.perf_counter() - start
    return spent[0], spent[1]


def bench_reads(app: Any, ids: list[str], reads: int, rounds: int = 10) -> None:
    real = deps(app).vault
    sealed = SealedVault(real.keys, real.rules)
    rng = random.Random(7)
    sample = [rng.choice(ids) for _ in range(reads // rounds)]

    def service(vault: Vault) -> Callable[[], None]:
        def run() -> None:
            with app.app_context():
                call = deps(app).call(db.session, READER, Purpose.named("support"))
                call.vault = vault
                for cid in sample:
                    customer_reads.read_customer(call, cid)
                    db.session.commit()

        return run

    with_crypto, without = interleaved(service(real), service(sealed), rounds)
    report("(b) service: get_customer + commit", reads, with_crypto, without)

    with app.app_context():
        account = service_accounts.service_account(deps(app).call(db.session), "bench", ["crm_app"])
        token = service_accounts.create_token(deps(app).call(db.session), account)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "support"}

    def http(vault: Vault) -> Callable[[], None]:
        def run() -> None:
            deps(app).vault = vault
            for cid in sample:
                assert client.get(f"/api/v1/customers/{cid}", headers=headers).status_code == 200

        return run

    with_crypto, without = interleaved(http(real), http(sealed), rounds)
    deps(app).vault = real
    report("(b) HTTP: GET /api/v1/customers/{id}", reads, with_crypto, without)


def report(label: str, reads: int, with_crypto: float, without: float) -> None:
    print(f"{label}")
    print(f"      with decryption    : {reads / with_crypto:9.0f} reads/s "
          f"({with_crypto / reads * 1e6:.0f} µs/read)")  # fmt: skip
    print(f"      without decryption : {reads / without:9.0f} reads/s "
          f"({without / reads * 1e6:.0f} µs/read)")  # fmt: skip
    print(f"      ratio              : {without / with_crypto:9.3f}x (goal >= 0.9x)")


def bench_lookup(app: Any, emails: list[str], lookups: int) -> None:
    with app.app_context():
        vault = deps(app).vault
        conn = db.session.connection()
        conn.execute(text("CREATE TABLE bench_plain_email (id VARCHAR(36) PRIMARY KEY, "
                          "email VARCHAR(320))"))  # fmt: skip
        conn.execute(text("CREATE INDEX ix_bench_plain_email ON bench_plain_email (email)"))
        rows = conn.execute(select(Customer.id, Customer.email_bidx)).all()
        by_index = {bytes(b): cid for cid, b in rows}
        plain = [{"id": by_index[vault.blind_index("email", e)], "email": e} for e in emails]
        conn.execute(text("INSERT INTO bench_plain_email (id, email) VALUES (:id, :email)"), plain)
        db.session.commit()
        rng = random.Random(11)
        probe = [rng.choice(emails).upper() for _ in range(lookups)]  # as a caller types them
        by_bidx = select(Customer.id).where(Customer.email_bidx == text(":b"))
        by_plain = text("SELECT id FROM bench_plain_email WHERE email = :e")
        conn = db.session.connection()

        def blind() -> None:
            for e in probe:
                assert conn.execute(by_bidx, {"b": vault.blind_index("email", e.lower())}).first()

        def clear() -> None:
            for e in probe:
                assert conn.execute(by_plain, {"e": e.lower()}).first()

        t_blind, t_plain = interleaved(blind, clear, 10)
        db.session.rollback()
        db.session.execute(text("DROP TABLE bench_plain_email"))
        db.session.commit()
    n = lookups * 10
    print("(c) exact e-mail lookup (normalise, [HMAC], indexed SELECT)")
    print(f"      blind index        : {t_blind / n * 1e6:9.1f} µs/lookup")
    print(f"      plaintext column   : {t_plain / n * 1e6:9.1f} µs/lookup")
    print(f"      ratio              : {t_blind / t_plain:9.2f}x the plaintext time")


def bench_rotation(app: Any, count: int) -> None:
    with app.app_context():
        call = deps(app).call(db.session)
        source: LocalKeySource = call.vault.keys  # type: ignore[assignment]
        start = time.perf_counter()
        base = len(db.session.scalars(select(DataKey.subject_id)).all())
        for first in range(0, count, 10_000):
            rows = []
            for n in range(first, min(first + 10_000, count)):
                wrapped = source.wrap(new_data_key())
                rows.append({"subject_id": f"00000000-0000-7000-8000-{n:012d}",
                             "key_id": new_data_key_id(), "kek_version": wrapped.version,
                             "wrapped": wrapped.blob})  # fmt: skip
            db.session.execute(insert(DataKey), rows)
        db.session.commit()
        prepared = time.perf_counter() - start
        job = keys.rotate(call)
        db.session.commit()
        start = time.perf_counter()
        done = jobs.run(call, keys.rewrap_job(call, "bench"))
        elapsed = time.perf_counter() - start
        assert done.state == "succeeded", done.error
        assert done.result["rewrapped"] == count + base and done.result["remaining"] == 0
        assert job.id == done.id
        dialect = db.engine.dialect.name
    print(f"(d) KEK rotation of {count:,} data keys ({dialect})")
    print(f"      bulk insert (setup): {prepared:9.2f} s")
    print(f"      rotation job       : {elapsed:9.2f} s "
          f"({elapsed / count * 1e6:.0f} µs per key; target < 10 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--reads", type=int, default=4_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--deks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2_000)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"a fresh database next to {PG_ADMIN}, dropped after",
    )
    parser.add_argument("--only", default="abcd", help="which parts to run, e.g. 'bd'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        if args.postgres:
            url = stack.enter_context(fresh_postgres())
        app = make_app(url, Path(folder) / "instance")
        if "a" in args.only:
            bench_record(args.repeat)
        if "b" in args.only or "c" in args.only:
            ids, emails = load_customers(app, args.customers)
        if "b" in args.only:
            bench_reads(app, ids, args.reads)
        if "c" in args.only:
            bench_lookup(app, emails, args.lookups)
        if "d" in args.only:
            bench_rotation(app, args.deks)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
