"""Breach-response benchmark: "everything token X read" over a large audit log, and bulk notices.

    .venv/bin/python bench/breach.py [--entries 1000000] [--customers 100000] [--postgres]

1. A store of ``--customers`` customers (ids, countries, states; no ciphertext is needed to
   answer "whose data") and a ``--entries`` audit log written with bulk inserts: one token's
   service account makes ``--token-share`` of the reads (``customer.read`` of one subject,
   ``customer.list`` of 10), twenty other actors the rest. The affected-subject analysis job then
   runs over the whole window exactly as a worker runs it; the figures are its seconds, the
   entries it read, the customers it found, and the query plan (it must use
   ``ix_audit_entries_actor_time``). The bulk log is storage only: its leaves are not a
   consistent Merkle tree (bench/audit_log.py measures that part).
2. Individual notices for 1,000 and 10,000 affected customers (the ``breach.notices`` job: a PDF
   each, sealed under each customer's own data key), each run in its own process: notices/s and
   that process's peak RSS, so the two peaks compare directly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_db import describe, fresh_postgres  # noqa: E402

COUNTRIES = [
    ("CN", None),
    ("DE", None),
    ("FR", None),
    ("GB", None),
    ("US", "US-CA"),
    ("US", "US-NY"),
    ("US", None),
    ("JP", None),
]
START = datetime(2026, 1, 1, tzinfo=UTC)
# Bulk entries are numbered far above the log's own appends (which keep integrating from the real
# tree size): this log is storage for the analysis, not a consistent tree.
SEQ_BASE = 10**9


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def seed_customers(db: object, count: int) -> list[str]:
    from governance.models import Customer, new_id

    session = db.session  # type: ignore[attr-defined]
    rng = random.Random(7)
    ids: list[str] = []
    base = int(START.timestamp() * 1000) - 10**8
    for start in range(0, count, 10_000):
        rows = []
        for i in range(start, min(count, start + 10_000)):
            country, state = rng.choice(COUNTRIES)
            cid = new_id(base + i)
            ids.append(cid)
            rows.append(
                {
                    "id": cid,
                    "country": country,
                    "subdivision": state,
                    "language": "zh-CN" if country == "CN" else "en",
                    "email_ct": b"\x01" if i % 2 else None,
                    "marketing": {},
                    "created_at": START,
                    "updated_at": START,
                }
            )
        session.execute(Customer.__table__.insert(), rows)
    session.commit()
    return ids


def seed_log(db: object, entries: int, ids: list[str], token_account: str, share: float) -> int:
    """Bulk-insert ``entries`` read entries; returns how many the token's account made."""
    from governance.models import AuditEntry

    session = db.session  # type: ignore[attr-defined]
    rng = random.Random(11)
    others = [f"01a20000-0000-7000-8000-{n:012d}" for n in range(20)]
    mine = 0
    for start in range(0, entries, 20_000):
        rows = []
        for seq in range(start + 1, min(entries, start + 20_000) + 1):
            actor = token_account if rng.random() < share else rng.choice(others)
            mine += actor == token_account
            stamp = _stamp(START + timedelta(milliseconds=seq))
            listing = rng.random() < 0.3
            subjects = rng.sample(ids, 10) if listing else [rng.choice(ids)]
            fields = {"email": "clear", "phone": "clear", "national_id": "masked"}
            details = {"subjects": subjects, "fields": fields} if listing else {"fields": fields}
            leaf = json.dumps(
                {
                    "action": "customer.list" if listing else "customer.read",
                    "actor_id": actor,
                    "details": details,
                    "timestamp": stamp,
                },
                sort_keys=True,
                separators=(",", ":"),
            )
            rows.append(
                {
                    "seq": SEQ_BASE + seq,
                    "timestamp": stamp,
                    "actor_id": actor,
                    "actor_type": "service",
                    "actor_role": "crm_app",
                    "action": "customer.list" if listing else "customer.read",
                    "resource": "customers",
                    "subject_id": None if listing else subjects[0],
                    "purpose": "support",
                    "outcome": "allowed",
                    "leaf": leaf,
                    "leaf_hash": hashlib.sha256(leaf.encode()).digest(),
                    "qid": None,
                }
            )
        session.execute(AuditEntry.__table__.insert(), rows)
        session.commit()
    return mine


def plan(db: object, account: str) -> str:
    from sqlalchemy import text

    from governance.services.breach.analysis import actor_reads

    session = db.session  # type: ignore[attr-defined]
    end = _stamp(START + timedelta(days=30))
    query = actor_reads(account, _stamp(START), end, _stamp(START), 5000)
    bind = session.get_bind()
    compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN" if bind.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    rows = session.execute(text(f"{prefix} {compiled}")).all()
    return " | ".join(str(r[-1] if bind.dialect.name == "sqlite" else r[0]) for r in rows)


def analyse(app: object, args: argparse.Namespace) -> None:
    from sqlalchemy import update

    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import ApiToken, DataKey
    from governance.services.breach import analysis, incidents
    from governance.services.identity import service_accounts
    from governance.services.jobs import queue as jobs

    with app.app_context():  # type: ignore[attr-defined]
        call = deps(app).call(db.session)
        started = time.perf_counter()
        ids = seed_customers(db, args.customers)
        account = service_accounts.service_account(call, "leaky-crm", ["crm_app"])
        service_accounts.create_token(call, account)
        db.session.commit()
        token = db.session.query(ApiToken).one()
        db.session.execute(update(ApiToken).values(created_at=START - timedelta(days=1)))
        mine = seed_log(db, args.entries, ids, account.id, args.token_share)
        for cid in ids[: max(args.notices)]:  # real data keys for the notices' customers
            call.vault.create_subject_key(db.session, cid)
        db.session.commit()
        print(
            f"seeded {args.customers:,} customers and {args.entries:,} audit entries "
            f"({mine:,} by the token's account) in {time.perf_counter() - started:.0f} s"
        )
        print(f"data keys: {db.session.query(DataKey).count():,}")
        print(f"plan: {plan(db, account.id)}")
        now = START + timedelta(days=30)
        call.clock = lambda: now
        incident = incidents.create(
            call, {"title": "Leaked token", "detected_at": _stamp(now), "aware_at": _stamp(now)}
        )
        scope = {
            "actor": {"type": "token", "id": token.id, "from": _stamp(START), "to": _stamp(now)}
        }
        job = analysis.submit(call, incident, scope, foreground=True)
        db.session.commit()
        started = time.perf_counter()
        job = jobs.run(call, job)
        elapsed = time.perf_counter() - started
        summary = incident.analysis or {}
        print(
            f"analysis 'everything token X read' over {args.entries:,} entries: {elapsed:.1f} s "
            f"({summary.get('entries_read', 0):,} entries read, {summary.get('affected', 0):,} "
            f"customers affected; job {job.state})"
        )
        print(f"  by regime: {summary.get('by_regime')}")


def seed_keys(app: object, count: int) -> None:
    """Customers with real data keys for the notices (no audit log)."""
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        call = deps(app).call(db.session)
        for cid in seed_customers(db, count):
            call.vault.create_subject_key(db.session, cid)
        db.session.commit()


CHILD = "--notices-child"


def notices_child(count: int) -> None:
    """One run of the notices job over ``count`` customers (in its own process)."""
    from sqlalchemy import select

    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.models import DataKey
    from governance.services.breach import analysis, documents, incidents
    from governance.services.jobs import queue as jobs

    app = create_app()
    with app.app_context():
        call = deps(app).call(db.session)
        ids = list(
            db.session.scalars(select(DataKey.subject_id).order_by(DataKey.subject_id).limit(count))
        )
        now = datetime.now(UTC)
        incident = incidents.create(
            call, {"title": f"Notices {count}", "detected_at": _stamp(now), "aware_at": _stamp(now)}
        )
        incident.description = "A database extract was exposed."
        analysis.keep(call, incident, {i: ("clear", {"email"}) for i in ids}, "bench", 0, "")
        job = documents.submit_notices(call, incident, foreground=True)
        db.session.commit()
        started = time.perf_counter()
        job = jobs.run(call, job)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        made = (job.result or {}).get("notices", 0)
        print(
            json.dumps(
                {
                    "notices": made,
                    "seconds": elapsed,
                    "peak_mb": peak,
                    "state": job.state,
                    "languages": (job.result or {}).get("languages"),
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="breach-response benchmark")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--token-share", type=float, default=0.1)
    parser.add_argument("--notices", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--notices-only",
        action="store_true",
        help="seed customers with data keys and measure the notices only",
    )
    parser.add_argument(CHILD, type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.notices_child:
        notices_child(args.notices_child)
        return
    work = Path(tempfile.mkdtemp(prefix="gov-bench-breach-"))
    os.environ.update(
        {
            "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
            "GOVERNANCE_DEV": "true",
            "GOVERNANCE_LOG_LEVEL": "WARNING",
        }
    )
    if args.postgres:
        with fresh_postgres() as url:
            os.environ["GOVERNANCE_DATABASE_URL"] = url
            run(args)
    else:
        os.environ["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{work / 'breach.db'}"
        run(args)


def run(args: argparse.Namespace) -> None:
    from flask_migrate import upgrade

    from governance import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    print(f"database: {describe(os.environ['GOVERNANCE_DATABASE_URL'])}")
    if args.notices_only:
        seed_keys(app, max(args.notices))
    else:
        analyse(app, args)
    peaks = {}
    for count in args.notices:
        out = subprocess.run(
            [sys.executable, __file__, CHILD, str(count)],
            capture_output=True,
            text=True,
            env=os.environ,
        )
        if out.returncode != 0:
            print(f"notices ({count}) failed:\n{out.stderr[-3000:]}")
            continue
        result = json.loads(out.stdout.strip().splitlines()[-1])
        peaks[count] = result["peak_mb"]
        print(
            f"notices: {result['notices']:,} in {result['seconds']:.1f} s = "
            f"{result['notices'] / result['seconds']:,.0f} notices/s, peak RSS "
            f"{result['peak_mb']:.0f} MB ({result['state']}, {result['languages']})"
        )
    if len(peaks) == 2:
        low, high = sorted(peaks)
        print(f"peak RSS {high:,} vs {low:,} notices: {peaks[high] / peaks[low]:.2f}x")


if __name__ == "__main__":
    main()
