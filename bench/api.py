"""API throughput and latency under gunicorn (2 workers), against a bare baseline in the same run.

    .venv/bin/python bench/api.py                 # SQLite (fresh database in a temp folder)
    .venv/bin/python bench/api.py --postgres      # PostgreSQL on 127.0.0.1:5432 (own database)

Starts three servers on loopback ports, each under gunicorn with 2 workers:
  * baseline: bench/baseline_app.py — one route, one SELECT of the row by id, nothing else;
  * probe: the governance app plus one bench-only route behind the normal guard (token lookup +
    Casbin) doing the baseline's SELECT — "authentication + authorisation alone";
  * governance: the real server (`governance serve`).
Then drives each with `wrk` (Debian package) from a second process: reads by id, list pages and
creates, and prints requests/s, p50 and p99 latency and the ratio to the baseline.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status < 500:
                    return
        except OSError:
            time.sleep(0.3)
            continue
    raise SystemExit(f"server at {url} did not become ready")


def gunicorn(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    cmd = [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT / "bench"),
        "--log-level",
        "warning",
        app,
    ]
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def setup(env: dict[str, str], customers: int) -> tuple[list[str], str]:
    """Migrate, load customers, add the probe rule and a crm_app token (in this process)."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from governance import create_app
    from governance.bootstrap import deps, register_key_versions
    from governance.extensions import db
    from governance.models import Customer
    from governance.security.authz import DEFAULT_POLICY_PATH
    from governance.services import identity, policy
    from governance.services.demo import generate
    from governance.services.imports import Importer

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
        account = identity.service_account(call, "bench", ["crm_app"])
        token = identity.create_token(call, account)
        db.session.commit()
        ids = list(db.session.scalars(db.select(Customer.id).limit(1000)))
        db.engine.dispose()
    return ids, token


LUA_READ = """
ids = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "%s" .. ids[(counter %% #ids) + 1], {["Authorization"] = "Bearer %s"})
end
"""
LUA_CREATE = """
counter = 0
prefix = 0
setup = function(thread)
  prefix = prefix + 1
  thread:set("prefix", prefix)
end
init = function(args)
  math.randomseed(os.time() * 1000 + (prefix or 0))
end
request = function()
  counter = counter + 1
  local n = string.format("%%d%%08d%%06d", prefix or 0, math.random(1, 99999999), counter)
  local body = '{"full_name":"Bench ' .. n .. '","email":"b' .. n .. '@example.com"}'
  return wrk.format("POST", "/api/v1/customers", {["Authorization"] = "Bearer %s",
    ["Content-Type"] = "application/json"}, body)
end
"""
LUA_GET = """
request = function()
  return wrk.format("GET", "%s", {["Authorization"] = "Bearer %s"})
end
"""


def wrk(base: str, script: str, seconds: int, connections: int, work: Path) -> dict[str, float]:
    lua = work / f"s{abs(hash(script))}.lua"
    lua.write_text(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(lua),
            base,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "non2xx": float(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="API benchmark against a bare baseline")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--customers", type=int, default=2000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="gov-bench-api-"))
    env = {
        **os.environ,
        "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
        "GOVERNANCE_DEV": "true",
        "GOVERNANCE_LOG_LEVEL": "WARNING",
        "GOVERNANCE_RATE_LIMIT": "1000000 per minute",
    }
    pg_name = None
    if args.postgres:
        import psycopg

        pg_name = f"gov_bench_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        env["GOVERNANCE_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    else:
        env["GOVERNANCE_DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    ids, token = setup(env, args.customers)
    ports = {name: free_port() for name in ("baseline", "probe", "governance")}
    procs = [
        gunicorn("baseline_app:app", ports["baseline"], env, work / "baseline.log"),
        gunicorn("auth_probe_app:app", ports["probe"], env, work / "probe.log"),
        subprocess.Popen(
            [
                str(BIN / "governance"),
                "serve",
                "--workers",
                "2",
                "--port",
                str(ports["governance"]),
            ],
            env=env,
            stdout=(work / "gov.log").open("wb"),
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        wait_ready(f"http://127.0.0.1:{ports['baseline']}/row/{ids[0]}")
        wait_ready(f"http://127.0.0.1:{ports['probe']}/healthz")
        wait_ready(f"http://127.0.0.1:{ports['governance']}/readyz")
        quoted = ",".join(f'"{i}"' for i in ids)
        runs = {
            "baseline read by id (1 SELECT)": (
                ports["baseline"],
                LUA_READ % (quoted, "/row/", token),
            ),
            "auth + Casbin alone (same SELECT)": (
                ports["probe"],
                LUA_READ % (quoted, "/api/v1/bench/row/", token),
            ),
            "governed read by id": (
                ports["governance"],
                LUA_READ % (quoted, "/api/v1/customers/", token),
            ),
            "governed list page (50)": (
                ports["governance"],
                LUA_GET % ("/api/v1/customers?limit=50", token),
            ),
            "governed create": (ports["governance"], LUA_CREATE % token),
        }
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"database: {database}; {len(ids)} customers read in rotation; "
            f"gunicorn 2 workers each; wrk 2 threads, {args.connections} connections, "
            f"{args.seconds} s per run"
        )
        print(f"{'workload':<36}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'non-2xx':>9}")
        base_rps = None
        for name, (port, script) in runs.items():
            r = wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections, work)
            base_rps = base_rps or r["rps"]
            print(
                f"{name:<36}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
                f"{r['rps'] / base_rps:>7.2f}x{int(r['non2xx']):>9}"
            )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
