"""Where the time of a governed call goes, inside one process (no HTTP, no gunicorn).

    .venv/bin/python bench/profile_governed.py [--requests 2000] [--postgres] [--top 30]

Builds the database of bench/api.py (fresh SQLite in a temporary folder, or a fresh PostgreSQL
database with ``--postgres``; demo customers; a crm_app token), starts the audit integrator as
``governance serve`` does (entries are queued, not integrated inline), then calls the WSGI app
directly for each workload: a read by id, a list page of 50 and a create. For each it prints the
SQL statements per request (counted on a separate pass), the mean µs per call, and the
functions with the most cumulative time (wall and process CPU per call: on a busy
machine the CPU figure is the steadier one) under cProfile. A benchmark, not a test: it prints
figures only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--only", default="read,list,create")
    parser.add_argument("--sort", default="cumulative", help="pstats order, e.g. tottime, calls")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_db import in_process_server

    with in_process_server(args.postgres, "gov-bench-profile-") as work:
        run(args, work)


def run(args: argparse.Namespace, work: Path) -> None:
    logging.disable(logging.WARNING)
    import api  # bench/api.py: the same data and token

    ids, token = api.setup(dict(os.environ), args.customers)
    from sqlalchemy import event
    from werkzeug.test import EnvironBuilder

    from governance import create_app
    from governance.bootstrap import start_audit_integrator
    from governance.extensions import db

    app = create_app()
    integrator = start_audit_integrator(app)
    headers = {"Authorization": f"Bearer {token}"}
    reading = {**headers, "X-Purpose": "support"}  # reads declare their purpose
    counter = iter(range(10**9))

    def read(i: int) -> dict[str, Any]:
        return EnvironBuilder(
            path=f"/api/v1/customers/{ids[i % len(ids)]}", headers=reading
        ).get_environ()

    def listing(_i: int) -> dict[str, Any]:
        return EnvironBuilder(path="/api/v1/customers?limit=50", headers=reading).get_environ()

    def create(_i: int) -> dict[str, Any]:
        n = next(counter)
        body = {"full_name": f"Bench {n}", "email": f"p{n}@example.com",
                "phone": f"1981{n:07d}", "country": "CN"}  # fmt: skip
        return EnvironBuilder(
            path="/api/v1/customers", method="POST", headers=headers, data=json.dumps(body),
            content_type="application/json",
        ).get_environ()  # fmt: skip

    makers: dict[str, Callable[[int], dict[str, Any]]] = {
        "read": read, "list": listing, "create": create,
    }  # fmt: skip
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if threading.current_thread() is threading.main_thread():  # not the integrator's
            statements.append(statement)

    status: list[str] = []

    def start_response(code: str, *_args: Any) -> None:
        status.append(code)

    def call(environ: dict[str, Any]) -> None:
        b"".join(app(environ, start_response))

    names = args.only.split(",")
    for name in names:
        make = makers[name]
        n = args.requests // (10 if name == "list" else 1)
        for i in range(50):  # warm-up
            call(make(i))
        environs = [make(i) for i in range(n)]
        status.clear()
        started, cpu = time.perf_counter(), time.process_time()
        for environ in environs[: n // 2]:
            call(environ)
        plain = (time.perf_counter() - started) / (n // 2) * 1e6
        used = (time.process_time() - cpu) / (n // 2) * 1e6
        profile = cProfile.Profile()
        profile.enable()
        for environ in environs[n // 2 :]:
            call(environ)
        profile.disable()
        bad = [s for s in status if not s.startswith("2")]
        print(f"\n== {name}: {plain:.0f} µs per call ({used:.0f} µs CPU of this process)"
              f"{f', {len(bad)} non-2xx ({bad[0]})' if bad else ''}")  # fmt: skip
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        # Python function calls per request: a deterministic measure of the work, unlike times
        # on a shared machine.
        print(f"   {stats.total_calls / (n - n // 2):,.0f} Python function calls per request")
        stats.sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    # The statements are counted after every measurement: an engine listener, once added,
    # keeps every later statement on SQLAlchemy's event-dispatch path (removing it does not
    # take it off), which the server itself never pays.
    event.listen(engine, "before_cursor_execute", count)
    for name in names:
        statements.clear()
        call(makers[name](1))
        print(f"== {name}: {len(statements)} SQL statements per call")
        for s in statements:
            print(f"   {' '.join(s.split())[:110]}")
    event.remove(engine, "before_cursor_execute", count)
    integrator.stop()


if __name__ == "__main__":
    main()
