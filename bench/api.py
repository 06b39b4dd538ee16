"""API throughput and latency under gunicorn (2 workers), against a bare baseline in the same run.

    .venv/bin/python bench/api.py                 # SQLite (fresh database in a temp folder)
    .venv/bin/python bench/api.py --postgres      # PostgreSQL: a fresh gov_bench_<pid> database
    .venv/bin/python bench/api.py --database-url postgresql://postgres@127.0.0.1:5432/test

Loads ``--customers`` demo customers into a fresh, migrated database (dev keys in a temporary
instance folder), creates a crm_app token, then starts three servers on loopback ports, each
under gunicorn with 2 workers:
  * baseline: bench/baseline_app.py, one route doing one SELECT of the row by id, nothing else,
    and a second baseline doing that SELECT plus one INSERT of an audit-entry-sized row in the
    same transaction: the physical floor of "audit or nothing";
  * probe: bench/auth_probe_app.py, the governance app plus one bench-only route behind the
    normal guard (token lookup, rate limit, Casbin) doing the baseline's SELECT, which measures
    "authentication + authorisation alone" (its policy line exists only in the bench database);
  * governance: the real server (``governance serve --workers 2``).
Each workload is driven by ``wrk`` (Debian package) from a second process after a short warm-up:
reads by id (rotating over every loaded customer), list pages and creates with unique emails and
phone numbers. Every workload runs ``--rounds`` times (default 3), interleaved with the baseline,
and each ratio is taken against the baselines of its own round (every workload is printed
against both: the bare read and the read + one INSERT). Prints the median requests/s,
p50 and p99 latency and ratio over the rounds, the lowest and highest round's ratio, and
errors. A benchmark, not a test: it never fails on a threshold.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from statistics import median
from typing import Any

from bench_db import PG_ADMIN, describe, fresh_postgres

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers below 500; exit if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not become ready")


def gunicorn(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``gunicorn -w 2`` serving ``module:app`` from bench/ on 127.0.0.1:``port``."""
    cmd = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir",
           str(ROOT / "bench"), "--log-level", "warning", app]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def governance_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The real server: ``governance serve --workers 2 --port PORT``."""
    cmd = [str(BIN / "governance"), "serve", "--workers", "2", "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def setup(env: dict[str, str], customers: int) -> tuple[list[str], str]:
    """Migrate, load customers, add the probe's rule and a crm_app token; returns (ids, token)."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from governance import create_app
    from governance.bootstrap import deps, register_key_versions
    from governance.database import refresh_statistics
    from governance.extensions import db
    from governance.models import Customer
    from governance.security.authz import DEFAULT_POLICY_PATH
    from governance.services.customers.demo import generate
    from governance.services.customers.imports import Importer
    from governance.services.identity import policy, service_accounts

    app = create_app()
    with app.app_context():
        upgrade()
        call = deps(app).call(db.session)
        register_key_versions(call)
        extended = Path(env["GOVERNANCE_INSTANCE_PATH"]) / "policy.csv"
        extended.write_text(
            DEFAULT_POLICY_PATH.read_text() + "\np, crm_app, /api/v1/bench/row/:id, GET\n"
        )
        policy.load(call, extended)
        importer = Importer(call)
        rows = list(enumerate(generate(customers, seed=3), start=1))
        for start in range(0, len(rows), 500):
            importer.batch(rows[start : start + 500])
            db.session.commit()
        refresh_statistics(db.session.connection(), len(rows))  # as an import job does
        account = service_accounts.service_account(call, "bench", ["crm_app"])
        token = service_accounts.create_token(call, account)
        db.session.commit()
        ids = list(db.session.scalars(db.select(Customer.id).order_by(Customer.id)))
        db.engine.dispose()
    return ids, token


LUA_READ = """
ids = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "%s" .. ids[(counter %% #ids) + 1], {["Authorization"] = "Bearer %s",
    ["X-Purpose"] = "support"})
end
"""
# Unique per request: thread number, a per-thread counter and a random part (emails); phone
# numbers 198TNNNNNNN are valid CN mobiles, unique per thread T and counter N (each round
# starts its counters a million apart, so later rounds do not repeat a number).
LUA_CREATE = """
counter = %d
threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
init = function(args)
  math.randomseed(os.time() * 1000 + tid)
  salt = math.random(1, 99999999)
end
request = function()
  counter = counter + 1
  local n = string.format("%%d-%%d-%%d", tid, salt, counter)
  local phone = string.format("198%%d%%07d", tid, counter)
  local body = '{"full_name":"Bench ' .. n .. '","email":"b' .. n .. '@example.com",' ..
    '"phone":"' .. phone .. '","country":"CN"}'
  return wrk.format("POST", "/api/v1/customers", {["Authorization"] = "Bearer %s",
    ["Content-Type"] = "application/json"}, body)
end
"""
LUA_GET = """
request = function()
  return wrk.format("GET", "%s", {["Authorization"] = "Bearer %s", ["X-Purpose"] = "support"})
end
"""


def _millis(out: str, label: str) -> float:
    m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its direct children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wrk(
    base: str,
    script: str,
    seconds: int,
    connections: int,
    work: Path,
    threads: int = 2,
    server_pid: int | None = None,
) -> dict[str, float]:
    """Run wrk with a Lua script; requests/s, p50/p99 in ms, non-2xx and socket errors, and
    (given the server's pid) the server's CPU time per request in µs."""
    lua = work / f"s{abs(hash(script))}.lua"
    lua.write_text(script)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
           "-s", str(lua), base]  # fmt: skip
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else float("nan")
    served = re.search(r"(\d+) requests in", out)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk gave no result for {base}:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(found.group(1)),
        "p50": _millis(out, "50"),
        "p99": _millis(out, "99"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": float(sum(map(int, socket_errors.groups()))) if socket_errors else 0.0,
        "cpu_us": cpu / int(served.group(1)) * 1e6 if served and int(served.group(1)) else 0.0,
    }


FLOOR = "baseline read + 1 INSERT (same tx)"


def workloads(ids: list[str], token: str, round_no: int = 0) -> list[tuple[str, str, str]]:
    """(name, server, wrk script) for every measured workload, the baseline first."""
    quoted = ",".join(f'"{i}"' for i in ids)
    return [
        ("baseline read by id (1 SELECT)", "baseline", LUA_READ % (quoted, "/row/", token)),
        (FLOOR, "baseline", LUA_READ % (quoted, "/row_insert/", token)),
        ("auth + Casbin alone (same SELECT)", "probe",
         LUA_READ % (quoted, "/api/v1/bench/row/", token)),
        ("governed read by id", "governance", LUA_READ % (quoted, "/api/v1/customers/", token)),
        ("governed list page (limit=50)", "governance",
         LUA_GET % ("/api/v1/customers?limit=50", token)),
        ("governed create", "governance", LUA_CREATE % (round_no * 1_000_000, token)),
    ]  # fmt: skip


def start_servers(
    env: dict[str, str], work: Path, first_id: str, stack: ExitStack
) -> tuple[dict[str, int], dict[str, int]]:
    """Start the three servers (stopped when ``stack`` closes); returns their ports and the
    pids of their gunicorn masters once ready."""
    ports = {name: free_port() for name in ("baseline", "probe", "governance")}
    procs = {
        "baseline": gunicorn("baseline_app:app", ports["baseline"], env, work / "baseline.log"),
        "probe": gunicorn("auth_probe_app:app", ports["probe"], env, work / "probe.log"),
        "governance": governance_server(ports["governance"], env, work / "governance.log"),
    }
    for proc in procs.values():
        stack.callback(_stop, proc)
    wait_ready(f"http://127.0.0.1:{ports['baseline']}/row/{first_id}", proc=procs["baseline"])
    wait_ready(f"http://127.0.0.1:{ports['probe']}/healthz", proc=procs["probe"])
    wait_ready(f"http://127.0.0.1:{ports['governance']}/readyz", proc=procs["governance"])
    return ports, {name: proc.pid for name, proc in procs.items()}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def measure(args: Any, env: dict[str, str], work: Path) -> None:
    """Load data, start the servers, then run every workload ``--rounds`` times, interleaved
    (baseline, probe, ..., baseline, probe, ...), each server warmed up right before its first
    run, and print medians.

    Each ratio is taken against the baseline of the same round, then the median over rounds is
    printed with the lowest and highest round: on a shared 2-core machine the load drifts over
    a run, and interleaving makes both sides of a ratio see the same drift.
    """
    started = time.perf_counter()
    ids, token = setup(env, args.customers)
    print(f"loaded {len(ids):,} customers in {time.perf_counter() - started:.1f} s")
    with ExitStack() as stack:
        ports, pids = start_servers(env, work, ids[0], stack)
        runs = [r for r in workloads(ids, token) if not args.only or r[1] in args.only]
        warmed: set[str] = set()
        results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in runs}
        ratios: dict[str, list[float]] = {name: [] for name, _, _ in runs}
        cpu_ratios: dict[str, list[float]] = {name: [] for name, _, _ in runs}
        floor_ratios: dict[str, list[float]] = {name: [] for name, _, _ in runs}
        for round_no in range(1, args.rounds + 1):
            base_rps = base_cpu = floor_rps = None
            this_round = [r for r in workloads(ids, token, round_no) if r[0] in results]
            for name, server, script in this_round:
                if server not in warmed and args.warmup > 0:  # right before its first run
                    wrk(f"http://127.0.0.1:{ports[server]}", script, args.warmup,
                        args.connections, work)  # fmt: skip
                    warmed.add(server)
                r = wrk(f"http://127.0.0.1:{ports[server]}", script, args.seconds,
                        args.connections, work, server_pid=pids[server])  # fmt: skip
                base_rps = base_rps or r["rps"]
                base_cpu = base_cpu or r["cpu_us"]
                if name == FLOOR:
                    floor_rps = r["rps"]
                if floor_rps:
                    floor_ratios[name].append(r["rps"] / floor_rps)
                results[name].append(r)
                ratios[name].append(r["rps"] / base_rps)
                cpu_ratios[name].append(base_cpu / r["cpu_us"] if r["cpu_us"] else 0.0)
            summary = ", ".join(f"{ratios[n][-1]:.2f}x" for n, _, _ in runs[1:])
            print(f"round {round_no}/{args.rounds}: ratios {summary}", flush=True)
        print(
            f"{'workload (median of rounds)':<36}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}"
            f"{'ratio':>7}{'range':>11}{'vs +INSERT':>11}{'cpu µs':>8}{'cpu ratio':>11}"
            f"{'errors':>7}"
        )
        for name, _, _ in runs:
            rs = results[name]
            errors = int(sum(r["non2xx"] + r["socket_errors"] for r in rs))
            spread = f"{min(ratios[name]):.2f}-{max(ratios[name]):.2f}"
            print(
                f"{name:<36}{median([r['rps'] for r in rs]):>8.0f}"
                f"{median([r['p50'] for r in rs]):>8.2f}{median([r['p99'] for r in rs]):>8.2f}"
                f"{median(ratios[name]):>6.2f}x{spread:>11}"
                + (f"{median(floor_ratios[name]):>10.2f}x" if floor_ratios[name] else f"{'-':>11}")
                + f"{median([r['cpu_us'] for r in rs]):>8.0f}{median(cpu_ratios[name]):>10.2f}x"
                f"{errors:>7}",
                flush=True,
            )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="API benchmark against a bare baseline")
    parser.add_argument(
        "--postgres", action="store_true", help=f"same as --database-url {PG_ADMIN}"
    )
    parser.add_argument(
        "--database-url", help="PostgreSQL admin URL: a fresh database is made next to it"
    )
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per server")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of every workload (median)"
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument(
        "--only",
        type=lambda v: set(v.split(",")),
        help="servers to measure, e.g. baseline,probe (default: all; keep baseline for ratios)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="gov-bench-api-"))
    env = {
        **os.environ,
        "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
        "GOVERNANCE_DEV": "true",
        "GOVERNANCE_LOG_LEVEL": "WARNING",
        "GOVERNANCE_RATE_LIMIT": "1000000 per minute",  # the limiter still runs, never refuses
    }
    admin = args.database_url or (PG_ADMIN if args.postgres else None)
    with ExitStack() as stack:
        if admin:
            env["GOVERNANCE_DATABASE_URL"] = stack.enter_context(fresh_postgres(admin))
        else:
            env["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
        print(
            f"database: {describe(env['GOVERNANCE_DATABASE_URL'])}; gunicorn 2 workers per server; "
            f"wrk 2 threads, {args.connections} connections, {args.seconds} s per workload and "
            f"round, {args.rounds} rounds, after {args.warmup} s warm-up; {os.cpu_count()} CPUs, "
            "load average "
            f"{os.getloadavg()[0]:.2f} at start"
        )
        measure(args, env, work)
    shutil.rmtree(work, ignore_errors=True)  # kept (with the server logs) when a run fails


if __name__ == "__main__":
    main()
