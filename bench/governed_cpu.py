"""CPU per governed call in one thread, integration included, against the bare baseline.

    .venv/bin/python bench/governed_cpu.py [--postgres] [--only read,list,create] [--batch 10]

A steadier measure than requests per second on a shared machine: no second process, no thread
competing for the GIL, nothing but the work. Builds the database of bench/api.py (fresh SQLite
in a temporary folder, or a fresh PostgreSQL database with ``--postgres``; demo customers; a
crm_app token), then calls, through WSGI in this process, the bare baseline
(bench/baseline_app.py: the read of one row, and the read plus one INSERT) and the governance
app (entries queued, as under ``governance serve``). After every ``--batch`` governed calls the
queued entries are integrated here, as the integrator thread would, and that CPU is charged to
the calls. Prints, per workload, the CPU µs per request (the request's own and its share of
integration) and the ratio of the bare read's CPU to it: the issue's "against the bare
baseline" with the noise of a shared machine taken out. Rounds are interleaved; the median is
printed. A benchmark, not a test: it prints figures only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--only", default="read,list,create")
    parser.add_argument("--batch", type=int, default=10, help="governed calls per integration")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1500, help="per round (a tenth for list)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_db import in_process_server

    with in_process_server(args.postgres, "gov-bench-cpu-"):
        run(args)


def run(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)
    import api  # bench/api.py: the same data and token

    ids, token = api.setup(dict(os.environ), args.customers)
    import baseline_app
    from werkzeug.test import EnvironBuilder

    from governance import create_app
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.auditlog.integrator import integrate_pending

    app = create_app()
    audit = deps(app).audit
    audit.inline = False  # queued, as under `governance serve`; integrated below
    with app.app_context():
        engine = db.engine
    reading = {"Authorization": f"Bearer {token}", "X-Purpose": "support"}
    created = iter(range(10**9))

    def get(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return EnvironBuilder(path=path, headers=headers or {}).get_environ()

    def create(_i: int) -> dict[str, Any]:
        n = next(created)
        body = {"full_name": f"Cpu Bench {n}", "email": f"cpu{n}@example.com",
                "phone": f"1982{n:07d}", "country": "CN"}  # fmt: skip
        return EnvironBuilder(
            path="/api/v1/customers", method="POST", data=json.dumps(body),
            headers={"Authorization": f"Bearer {token}"}, content_type="application/json",
        ).get_environ()  # fmt: skip

    def integrate() -> None:
        with app.app_context():
            integrate_pending(engine, audit)

    workloads: dict[str, tuple[Any, Callable[[int], dict[str, Any]], bool]] = {
        "bare read (1 SELECT)": (
            baseline_app.app, lambda i: get(f"/row/{ids[i % len(ids)]}"), False),
        "bare read + 1 INSERT": (
            baseline_app.app, lambda i: get(f"/row_insert/{ids[i % len(ids)]}"), False),
        "read": (app, lambda i: get(f"/api/v1/customers/{ids[i % len(ids)]}", reading), True),
        "list": (app, lambda _i: get("/api/v1/customers?limit=50", reading), True),
        "create": (app, create, True),
    }  # fmt: skip
    chosen = [name for name in workloads if " " in name or name in args.only.split(",")]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in chosen}
    for _round in range(args.rounds):
        for name in chosen:
            target, make, governed = workloads[name]
            count = args.requests // (10 if name == "list" else 1)
            results[name].append(
                measure(target, make, count, integrate if governed else None, args.batch)
            )
    base = median(own + share for own, share in results[chosen[0]])
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\nCPU per request in one thread ({kind}, {args.rounds} rounds, median; "
          f"integration every {args.batch} governed calls)")  # fmt: skip
    print(f"{'workload':<24}{'request µs':>12}{'integration µs':>16}{'total µs':>10}"
          f"{'vs bare':>9}")  # fmt: skip
    for name in chosen:
        own = median(o for o, _ in results[name])
        share = median(s for _, s in results[name])
        total = median(o + s for o, s in results[name])
        print(f"{name:<24}{own:>12,.0f}{share:>16,.0f}{total:>10,.0f}{base / total:>8.2f}x")


def measure(
    target: Any,
    make: Callable[[int], dict[str, Any]],
    count: int,
    integrate: Callable[[], None] | None,
    batch: int,
) -> tuple[float, float]:
    """(request CPU µs, integration CPU µs) per request, after a warm-up."""

    def start_response(status: str, *_rest: Any) -> None:
        if not status.startswith("2"):
            raise SystemExit(f"unexpected answer {status}")

    for i in range(100):  # warm-up
        b"".join(target(make(i), start_response))
    if integrate is not None:
        integrate()
    environs = [make(i) for i in range(count)]
    own = shared = 0.0
    for i, environ in enumerate(environs):
        started = time.process_time()
        b"".join(target(environ, start_response))
        own += time.process_time() - started
        if integrate is not None and i % batch == batch - 1:
            started = time.process_time()
            integrate()
            shared += time.process_time() - started
    if integrate is not None:
        started = time.process_time()
        integrate()
        shared += time.process_time() - started
    n = len(environs)
    return own / n * 1e6, shared / n * 1e6


if __name__ == "__main__":
    main()
