"""Where the time of an authenticated API call goes, inside one process (no HTTP, no gunicorn).

    .venv/bin/python bench/api_hooks.py [--requests 5000]

Builds the same database as bench/api.py (fresh SQLite in a temporary folder, demo customers, a
crm_app token), then calls the WSGI apps of bench/baseline_app.py and bench/auth_probe_app.py
directly with prepared requests and prints the mean microseconds per call of each, and of every
hook, view and session step of the probe (each wrapped in a timer). Times inside a full request
are larger than the same code in a tight loop (caches are colder); this shows them as they are
paid. A benchmark, not a test: it prints figures only.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Timings = dict[str, float]


def timed(name: str, func: Callable[..., Any], into: Timings) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            into[name] = into.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def instrument(app: Any, into: Timings) -> None:
    """Wrap every request hook, view and the session interface of ``app`` in timers."""
    for kind, table in (
        ("before", app.before_request_funcs),
        ("after", app.after_request_funcs),
        ("teardown", app.teardown_request_funcs),
    ):
        for key, funcs in table.items():
            table[key] = [timed(f"{kind}: {getattr(f, '__name__', f)}", f, into) for f in funcs]
    app.teardown_appcontext_funcs = [
        timed(f"app teardown: {getattr(f, '__name__', f)}", f, into)
        for f in app.teardown_appcontext_funcs
    ]
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = timed(f"view: {endpoint}", view, into)
    sessions = app.session_interface
    sessions.open_session = timed("session: open", sessions.open_session, into)
    sessions.save_session = timed("session: save", sessions.save_session, into)


def per_call(app: Any, environs: list[dict[str, Any]]) -> float:
    """Mean µs per call of ``app`` over the prepared requests."""

    def start_response(*_args: Any) -> None:
        return None

    started = time.perf_counter()
    for environ in environs:
        b"".join(app(dict(environ), start_response))
    return (time.perf_counter() - started) / len(environs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gov-bench-hooks-"))
    env = {
        "GOVERNANCE_INSTANCE_PATH": str(work / "instance"),
        "GOVERNANCE_DEV": "true",
        "GOVERNANCE_LOG_LEVEL": "WARNING",
        "GOVERNANCE_RATE_LIMIT": "1000000 per minute",
        "GOVERNANCE_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
    }
    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    logging.disable(logging.WARNING)
    import api  # bench/api.py: the same data and token

    ids, token = api.setup(dict(os.environ), args.customers)
    import auth_probe_app
    import baseline_app
    from werkzeug.test import EnvironBuilder

    headers = {"Authorization": f"Bearer {token}"}

    def requests(prefix: str) -> list[dict[str, Any]]:
        return [
            EnvironBuilder(path=prefix + ids[i % len(ids)], headers=headers).get_environ()
            for i in range(args.requests)
        ]

    base_env, probe_env = requests("/row/"), requests("/api/v1/bench/row/")
    per_call(baseline_app.app, base_env[:500])  # warm-up
    per_call(auth_probe_app.app, probe_env[:500])
    base = per_call(baseline_app.app, base_env)
    spent: Timings = {}
    instrument(auth_probe_app.app, spent)
    probe = per_call(auth_probe_app.app, probe_env)
    print(f"baseline (bare Flask, 1 SELECT): {base:7.1f} µs per call")
    print(f"probe (governance app, same SELECT): {probe:7.1f} µs per call "
          f"({base / probe:.2f}x in-process; timers add a little)")  # fmt: skip
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<44}{seconds / len(probe_env) * 1e6:8.1f} µs")


if __name__ == "__main__":
    main()
