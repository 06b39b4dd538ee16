"""``governance up`` (first run in one step) and ``governance serve`` (gunicorn or dev server)."""

from __future__ import annotations

import os
import secrets
from typing import Any

import click

from governance.cli import cli
from governance.unit_of_work import unit_of_work

DEMO_ADMIN = "admin@example.com"


def _upgrade(app: Any) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def ensure_demo_admin(app: Any) -> dict[str, Any] | None:
    """Create the demo admin (roles admin + dpo) with TOTP enrolled; None if it exists."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.identity import people as identity

    with app.app_context(), unit_of_work(db.session()):
        call = deps(app).call(db.session())
        if identity.find_user(call, DEMO_ADMIN) is not None:
            return None
        password = "Demo-" + secrets.token_urlsafe(12)
        user = identity.create_user(call, DEMO_ADMIN, ["admin", "dpo"], password)
        enrolment = identity.begin_enrolment(call, user)
        user.totp_enrolled = True
        codes = identity.regenerate_recovery_codes(call, user)
        return {
            "password": password,
            "secret": enrolment["secret"],
            "uri": enrolment["uri"],
            "codes": codes,
        }


def _seed_policy(app: Any) -> None:
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.identity import policy

    with app.app_context(), unit_of_work(db.session()):
        policy.load_if_empty(deps(app).call(db.session()))


@cli.command("up", with_appcontext=False)
@click.option("--no-serve", is_flag=True, help="Set up only; do not start the server.")
@click.option(
    "--demo",
    "demo",
    type=click.IntRange(0, 1_000_000),
    default=0,
    show_default=True,
    help="Load N synthetic demo customers (only into an empty store).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def up(no_serve: bool, demo: int, host: str, port: int) -> None:
    """First run in one step: migrations, dev keys, demo admin, demo data, then serve."""
    from governance import create_app
    from governance.bootstrap import deps, encrypt_legacy_values, register_key_versions
    from governance.extensions import db
    from governance.services.customers import demo as demo_service

    app = create_app({"DEV": True})
    _upgrade(app)
    with app.app_context(), unit_of_work(db.session()):
        register_key_versions(deps(app).call(db.session()))
    encrypt_legacy_values(app)  # an older store upgraded just now: seal its clear columns
    _seed_policy(app)
    admin = ensure_demo_admin(app)
    if admin:
        click.secho("\nDemo admin created (shown once, store it now):", fg="yellow", bold=True)
        click.echo(f"  email:       {DEMO_ADMIN}")
        click.echo(f"  password:    {admin['password']}")
        click.echo(f"  TOTP secret: {admin['secret']}  (add it to an authenticator app)")
        click.echo(f"  TOTP URI:    {admin['uri']}")
        click.echo(f"  recovery:    {' '.join(admin['codes'])}\n")
    else:
        click.echo(f"demo admin {DEMO_ADMIN} already exists (credentials were shown on first run)")
    if demo:
        with app.app_context():
            existing = demo_service.stored_customers(deps(app).call(db.session()))
            if existing:
                click.echo(f"store already holds {existing} customers; demo data not loaded again")
            else:
                from governance.cli import progress_runner

                update, close = progress_runner("demo customers")
                try:
                    report = demo_service.load_demo(deps(app).call(db.session()), demo, 7, update)
                finally:
                    close()
                click.echo(f"loaded {report['created']} demo customers")
    click.echo(f"instance folder: {app.instance_path}")
    if not no_serve:
        _serve(host, port, workers=2, dev=False, jobs=True, env={"GOVERNANCE_DEV": "true"})


class Background:
    """The threads a server process runs beside its requests: the job runner and the audit
    integrator (so ``governance up`` alone runs jobs and integrates the audit log)."""

    def __init__(self, runner: Any, integrator: Any) -> None:
        self.runner, self.integrator = runner, integrator

    @property
    def alive(self) -> bool:
        """Whether the job runner's thread still runs."""
        return bool(self.runner.alive)

    def stop(self, timeout: float = 30.0) -> bool:
        """Let the job in hand finish its step, then integrate what is queued and stop; True
        when the job runner stopped within ``timeout`` seconds."""
        stopped = bool(self.runner.stop(timeout=timeout))
        self.integrator.stop()
        return stopped


def start_job_runner(app: Any) -> Background:
    """Run queued jobs in this server process (a thread), as ``governance worker`` would, and
    the audit integrator beside them."""
    import socket
    from collections.abc import Iterator
    from contextlib import contextmanager

    from governance.bootstrap import deps
    from governance.context import Actor
    from governance.extensions import db
    from governance.services.jobs.runner import JobRunner

    name = f"{socket.gethostname()}:{os.getpid()}:server"
    actor = Actor(id=f"runner:{name}", type="system", roles=("system",))

    @contextmanager
    def open_call() -> Iterator[Any]:
        with app.app_context():
            try:
                yield deps(app).call(db.session(), actor)
            finally:
                db.session.remove()

    from governance.bootstrap import start_audit_integrator

    return Background(JobRunner(open_call, name).start(), start_audit_integrator(app))


def _serve(
    host: str,
    port: int,
    workers: int,
    dev: bool,
    jobs: bool = True,
    env: dict[str, str] | None = None,
) -> None:
    os.environ.update(env or {})
    from governance import create_app

    if dev:
        _serve_dev(host, port, jobs)
        return
    from gunicorn.app.base import BaseApplication

    runners: dict[int, Any] = {}

    def stop_runner(_arbiter: Any, _worker: Any) -> None:
        runner = runners.pop(os.getpid(), None)
        if runner is not None:
            runner.stop()

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss')
            self.cfg.set("worker_exit", stop_runner)

        def load(self) -> Any:
            app = create_app()  # in each worker, after the fork: the runner thread lives there
            if jobs:
                runners[os.getpid()] = start_job_runner(app)
            return app

    note = " (each also runs queued jobs)" if jobs else "; jobs need `governance worker`"
    click.echo(f"serving on http://{host}:{port}/ with {workers} gunicorn workers{note}")
    Server().run()


def _serve_dev(host: str, port: int, jobs: bool) -> None:
    """Werkzeug's reloading server. Flask's ``app.run`` does nothing under the Flask CLI (it
    expects ``flask run``), so ``run_simple`` is called directly. No interactive debugger: it
    would let anyone reaching the port run code."""
    from werkzeug.serving import run_simple

    from governance import create_app

    app = create_app()
    runner = None
    # With the reloader, the app serves in a child process (WERKZEUG_RUN_MAIN): run jobs there.
    if jobs and os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        runner = start_job_runner(app)
    click.echo(f"development server on http://{host}:{port}/ (reloads on code changes)", err=True)
    try:
        run_simple(host, port, app, use_reloader=True, use_debugger=False, threaded=True)
    finally:
        if runner is not None:
            runner.stop()


@cli.command("serve", with_appcontext=False)
@click.option("--dev", is_flag=True, help="Werkzeug's reloading development server.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--jobs/--no-jobs",
    default=True,
    show_default=True,
    help="Run queued jobs inside the server (--no-jobs: leave them to `governance worker`).",
)
def serve(dev: bool, host: str, port: int, workers: int, jobs: bool) -> None:
    """Run the server (gunicorn in production mode) and, unless --no-jobs, its job runner."""
    from governance import create_app

    create_app()  # fail fast, with a one-line message, on bad configuration
    _serve(host, port, workers, dev, jobs)
