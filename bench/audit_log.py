"""Audit-log benchmark on the real storage: appends/s (1, 4 and 8 processes integrating inline;
8 queued clients with one integrator, and the delay from commit to integration), verification
of a large log from the database, proof generation through the SQL node store, and the audited
read's throughput against the bare baseline.

    .venv/bin/python bench/audit_log.py [--entries 1000000] [--postgres] [--api-seconds 5]

(Named audit_log.py, not audit.py: a bench/audit.py would shadow the ``audit`` package for every
script in this folder.)

Each append is its own transaction through ``AuditLog.record`` (what a governed request does):
"inline" integrates in the writer's transaction (as a process without an integrator does),
"queued" only INSERTs into the queue, as a server process with its integrator thread does.
The large log is written with bulk inserts of rows computed by the ``audit`` library (not a
million ORM appends), then verified in-process (``audit_views.verify_live``) and by the
``governance audit verify`` command in a subprocess. The audited read is measured with
bench/api.py's servers and wrk scripts in this same run: the bare baseline (one SELECT) against
the governed read by id (guard, decrypt, mask, audit append, commit).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
APPENDER = """
import sys, time
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
app = create_app()
n = int(sys.argv[1])
with app.app_context():
    call = deps(app).call(db.session)
    call.audit.inline = sys.argv[2] == "inline"  # queued: an integrator process does the tree
    call.audit.record(db.session, call.actor, "bench.warmup", now=call.now())
    db.session.commit()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    for i in range(n):
        call.audit.record(db.session, call.actor, "bench.append", now=call.now(), details={"i": i})
        db.session.commit()
    print(started, time.time(), flush=True)
"""


# Child-process code shared by the two integration-delay runs: wraps an integrator's run_once so
# the delay from each entry's commit (its timestamp) to its integration is recorded.
MEASURE_DELAYS = """
import sys, time
from datetime import UTC, datetime
from sqlalchemy import select
from governance.models import AuditEntry


def measure_delays(integrator, engine):
    delays = []
    plain = integrator.run_once

    def measured(now=None):
        count = plain(now)
        if count:
            done = time.time()
            with engine.connect() as conn:
                stamps = conn.execute(select(AuditEntry.timestamp).order_by(
                    AuditEntry.seq.desc()).limit(count)).scalars()
                delays.extend(done - datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
                              .replace(tzinfo=UTC).timestamp() for t in stamps)
        return count

    integrator.run_once = measured
    return delays
"""

# As a server's worker processes: each client runs the integrator thread (``governance serve``
# does); the lease holder integrates, woken by its own commits, and the others' entries are
# found by its poll. Each process measures the delay of what its own integrator integrated.
SERVER_CLIENT = (
    MEASURE_DELAYS
    + """
from governance import create_app
from governance.bootstrap import deps, start_audit_integrator
from governance.extensions import db
n = int(sys.argv[1])
app = create_app()
with app.app_context():
    engine = db.engine
    integrator = start_audit_integrator(app)
    delays = measure_delays(integrator, engine)
    call = deps(app).call(db.session)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    for i in range(n):
        call.audit.record(db.session, call.actor, "bench.append", now=call.now(), details={"i": i})
        db.session.commit()
    ended = time.time()
    sys.stdin.readline()  # then integrate what is left (this process holds the lease) and stop
    integrator.stop()
    print(started, ended, " ".join(f"{d:.6f}" for d in delays), flush=True)
"""
)


def server_mode_appends(clients: int, per_client: int, env: dict[str, str]) -> None:
    """Appends/s of ``clients`` processes each running an integrator thread, as server worker
    processes do, and the delay from commit to integration (p50/p99 over every entry)."""
    procs = [
        subprocess.Popen([sys.executable, "-c", SERVER_CLIENT, str(per_client)], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(clients)
    ]  # fmt: skip
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    spans, delays = [], []
    outs = []
    for p in procs:
        assert p.stdin is not None
        try:
            p.stdin.write("stop\n")
            p.stdin.flush()
        except BrokenPipeError:
            pass
    for p in procs:
        out, _ = p.communicate(timeout=900)
        if p.returncode != 0:
            raise SystemExit("a server-mode client failed")
        outs.append(out.split())
    for fields in outs:
        spans.append((float(fields[0]), float(fields[1])))
        delays.extend(float(d) for d in fields[2:])
    rate = clients * per_client / (max(e for _, e in spans) - min(s for s, _ in spans))
    delays.sort()
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] if delays else 0.0  # noqa: E731
    print(f"appends, {clients} clients as server processes (integrator thread in each, woken on "
          f"commit): {rate:,.0f}/s in total")  # fmt: skip
    print(
        f"integration delay (commit to tree, server mode): p50 {pick(0.5) * 1000:.0f} ms, "
        f"p99 {pick(0.99) * 1000:.0f} ms over {len(delays):,} entries (target < 1 s)"
    )


INTEGRATOR = (
    MEASURE_DELAYS
    + """
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
from governance.services.auditlog.integrator import Integrator

app = create_app()
with app.app_context():
    engine = db.engine  # the thread has no app context
    integrator = Integrator(engine, deps(app).audit, float(sys.argv[1]))
    delays = measure_delays(integrator, engine)
    integrator.start()
    print("ready", flush=True)
    sys.stdin.readline()
    integrator.stop()
    delays.sort()
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] if delays else 0.0
    print(len(delays), pick(0.5), pick(0.99), flush=True)
"""
)


def queued_appends(clients: int, per_client: int, env: dict[str, str], interval: float) -> None:
    """Appends/s of ``clients`` queued writers (each append its own transaction through the
    service) with one integrator process, and the delay from commit to integration."""
    integrator = subprocess.Popen(
        [sys.executable, "-c", INTEGRATOR, str(interval)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert integrator.stdout is not None and integrator.stdout.readline().strip() == "ready"
    rate = appends(clients, per_client, env, mode="queued")
    assert integrator.stdin is not None
    integrator.stdin.write("stop\n")
    integrator.stdin.flush()
    out, _ = integrator.communicate(timeout=600)
    count, p50, p99 = out.split()
    print(
        f"appends, {clients} clients queued (+1 integrator):  {rate:,.0f}/s in total "
        "(target >= 5,000/s on PostgreSQL)"
    )
    print(
        f"integration delay (commit to tree, poll {interval} s): p50 {float(p50) * 1000:.0f} ms, "
        f"p99 {float(p99) * 1000:.0f} ms over {int(count):,} entries (target < 1 s)"
    )


def appends(processes: int, per_process: int, env: dict[str, str], mode: str = "inline") -> float:
    """Appends/s once every process is up (start-up is not counted)."""
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(per_process), mode], env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]  # fmt: skip
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    spans = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit("an appender failed")
        spans.append(tuple(map(float, out.split())))
    return processes * per_process / (max(e for _, e in spans) - min(s for s, _ in spans))


def bulk_log(n: int) -> None:
    """Append n entries quickly: library-computed leaves, hashes, nodes; bulk inserted."""
    from audit.entry import Entry
    from audit.hashing import leaf_hash
    from audit.tree import Frontier
    from governance.extensions import db
    from governance.models import AuditEntry, AuditNode, AuditState

    frontier = Frontier()
    ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    entries: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []

    def flush() -> None:
        if not entries:
            return
        db.session.execute(AuditEntry.__table__.insert(), entries)
        db.session.execute(AuditNode.__table__.insert(), nodes)
        db.session.commit()
        entries.clear()
        nodes.clear()

    for seq in range(1, n + 1):
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
    state.size = n
    state.frontier = json.dumps(frontier.to_json(), separators=(",", ":"))
    db.session.commit()


def cli_verify(entries: int) -> None:
    """Time ``governance audit verify`` (a fresh process, as an operator runs it)."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "governance"), "audit", "verify"],
        env={**os.environ, "GOVERNANCE_PROGRESS": "0"}, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"governance audit verify failed: {done.stderr[-500:]}")
    print(f"`governance audit verify` of {entries:,}+ entries (whole command): {elapsed:.1f} s")


def audited_read_ratio(postgres: bool, seconds: int) -> None:
    """Bare baseline vs governed read by id under gunicorn + wrk, reusing bench/api.py."""
    import api as api_bench  # bench/api.py (this folder is first on sys.path)

    work = Path(tempfile.mkdtemp(prefix="gov-bench-audit-api-"))
    env = {**os.environ, "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
           "GOVERNANCE_RATE_LIMIT": "1000000 per minute"}  # fmt: skip
    if postgres:  # same database as the log above: keep the instance holding its keys
        env["GOVERNANCE_INSTANCE_PATH"] = os.environ["GOVERNANCE_INSTANCE_PATH"]
    else:
        env["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{work / 'api.db'}"
    ids, token = api_bench.setup(env, 1000)
    ports = {name: api_bench.free_port() for name in ("baseline", "governance")}
    procs = [
        api_bench.gunicorn("baseline_app:app", ports["baseline"], env, work / "baseline.log"),
        subprocess.Popen(
            [str(Path(sys.executable).parent / "governance"), "serve", "--workers", "2",
             "--port", str(ports["governance"])],
            env=env, stdout=(work / "gov.log").open("wb"), stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    try:
        api_bench.wait_ready(f"http://127.0.0.1:{ports['baseline']}/row/{ids[0]}")
        api_bench.wait_ready(f"http://127.0.0.1:{ports['governance']}/readyz")
        quoted = ",".join(f'"{i}"' for i in ids)
        base = api_bench.wrk(
            f"http://127.0.0.1:{ports['baseline']}",
            api_bench.LUA_READ % (quoted, "/row/", token),
            seconds,
            8,
            work,
        )
        audited = api_bench.wrk(f"http://127.0.0.1:{ports['governance']}",
                                api_bench.LUA_READ % (quoted, "/api/v1/customers/", token),
                                seconds, 8, work)  # fmt: skip
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    print(
        f"read by id, gunicorn 2 workers, wrk 8 connections, {seconds} s each: bare baseline "
        f"{base['rps']:,.0f} req/s, audited (governed) read {audited['rps']:,.0f} req/s, "
        f"ratio {audited['rps'] / base['rps']:.2f} (non-2xx: {int(audited['non2xx'])})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="audit log benchmark")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--integrate-seconds", type=float, default=0.2,
                        help="the integrator's poll interval")  # fmt: skip
    parser.add_argument("--api-seconds", type=int, default=5, help="0 skips the read ratio")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gov-bench-audit-"))
    env = {**os.environ, "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
           "GOVERNANCE_DEV": "true", "GOVERNANCE_LOG_LEVEL": "WARNING"}  # fmt: skip
    pg_name = None
    if args.postgres:
        import psycopg

        pg_name = f"gov_bench_audit_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["GOVERNANCE_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    os.environ.update(env)
    from flask_migrate import upgrade

    from audit.proofs import prove_consistency, prove_inclusion
    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.auditlog import views as audit_views
    from governance.services.auditlog.append import SqlNodeStore
    from governance.services.auditlog.witness import checkpoint_file_for

    try:
        app = create_app()
        with app.app_context():
            upgrade()
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"database: {database}")
        one = appends(1, args.appends, env)
        print(f"appends, 1 process, each its own transaction: {one:,.0f}/s (target >= 2,000/s)")
        four = appends(4, args.appends // 2, env)
        print(f"appends, 4 processes concurrently:            {four:,.0f}/s in total")
        eight = appends(8, args.appends // 4, env)
        print(f"appends, 8 clients, integrated inline:        {eight:,.0f}/s in total")
        queued_appends(8, args.appends // 4, env, args.integrate_seconds)
        server_mode_appends(8, args.appends // 4, env)
        fresh = Path(tempfile.mkdtemp(prefix="gov-bench-audit-big-"))
        if not args.postgres:
            os.environ["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{fresh / 'big.db'}"
            os.environ["GOVERNANCE_INSTANCE_PATH"] = str(fresh / "instance")
        else:
            with app.app_context():
                for table in ("audit_entries", "audit_nodes", "audit_checkpoints"):
                    db.session.execute(db.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
                    db.session.execute(db.text(f"TRUNCATE {table}"))
                    db.session.execute(db.text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
                # audit_state only moves forward (migration 0004): lift its trigger to reset it.
                db.session.execute(db.text("ALTER TABLE audit_state DISABLE TRIGGER USER"))
                db.session.execute(
                    db.text(
                        "UPDATE audit_state SET size = 0, frontier = :f, last_checkpoint_size = 0"
                    ),
                    {"f": '{"size":0,"hashes":[]}'},
                )
                db.session.execute(db.text("ALTER TABLE audit_state ENABLE TRIGGER USER"))
                db.session.commit()
            # Starting over on purpose: the checkpoint kept outside the database would (rightly)
            # call the new, shorter log truncated (README, "The checkpoint kept outside ...").
            checkpoint_file_for(app.config["SIGNING_KEY_FILE"]).unlink(missing_ok=True)
        big = create_app()
        with big.app_context():
            if not args.postgres:
                upgrade()
            started = time.perf_counter()
            bulk_log(args.entries)
            print(f"wrote a {args.entries:,}-entry log in {time.perf_counter() - started:.1f} s")
            call = deps(big).call(db.session)
            call.audit.checkpoint(db.session, datetime.now(UTC))
            db.session.commit()
            started = time.perf_counter()
            report = audit_views.verify_live(call)
            db.session.commit()
            elapsed = time.perf_counter() - started
            print(f"verification of {report.tree_size:,} entries from the database: "
                  f"{elapsed:.1f} s (target < 30 s for 1,000,000)")  # fmt: skip
            store = SqlNodeStore(db.session)
            size = report.tree_size
            rng = random.Random(5)
            times = []
            for _ in range(200):
                started = time.perf_counter()
                prove_inclusion(store, rng.randrange(size), size)
                times.append(time.perf_counter() - started)
            print(f"inclusion proof at {size:,}: {statistics.mean(times) * 1000:.2f} ms mean "
                  "(target < 5 ms)")  # fmt: skip
            times = []
            for _ in range(200):
                started = time.perf_counter()
                prove_consistency(store, rng.randrange(1, size), size)
                times.append(time.perf_counter() - started)
            print(f"consistency proof at {size:,}: {statistics.mean(times) * 1000:.2f} ms mean "
                  "(target < 5 ms)")  # fmt: skip
            db.engine.dispose()
        cli_verify(args.entries)
        if args.api_seconds > 0:
            audited_read_ratio(args.postgres, args.api_seconds)
    finally:
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
