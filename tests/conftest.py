"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
``GOVERNANCE_TEST_DATABASE_URL`` is set), the app, its test client and CLI runner, and factories.

Migrations run once per session into a template (a SQLite file, or a PostgreSQL template
database); each test gets a copy, so every test starts from exactly what ``db upgrade`` builds.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from governance.security.passwords import TEST_PARAMETERS
from governance.services.identity import people as identity
from governance.services.identity import service_accounts

identity.PASSWORD_PARAMS["default"] = TEST_PARAMETERS

PG_URL = os.environ.get("GOVERNANCE_TEST_DATABASE_URL")
# Scheduled backups (and their verification) are off in tests unless a test turns them on.
os.environ.setdefault("GOVERNANCE_BACKUP_EVERY_HOURS", "0")


def _pg_admin_engine() -> Any:
    return create_engine(_psycopg(PG_URL), isolation_level="AUTOCOMMIT")


def _psycopg(url: str | None) -> str:
    assert url
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _with_database(url: str, name: str) -> str:
    return make_url(_psycopg(url)).set(database=name).render_as_string(hide_password=False)


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from governance import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        from governance.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated template database (path of a SQLite file, or a PostgreSQL database name)."""
    base = tmp_path_factory.mktemp("template")
    if PG_URL is None:
        path = base / "template.db"
        _migrate(f"sqlite:///{path}", base / "instance")
        yield str(path)
        return
    name = f"gov_tmpl_{os.getpid()}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    _migrate(_with_database(PG_URL, name), base / "instance")
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the migrated template for one test."""
    if PG_URL is None:
        target = tmp_path / "governance.db"
        shutil.copyfile(template_db, target)
        yield f"sqlite:///{target}"
        return
    name = f"gov_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
    yield _with_database(PG_URL, name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(database_url: str, instance: Path, **overrides: Any) -> Any:
    from governance import create_app

    config = {"TESTING": True, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)}
    config["SCHEDULES"] = False  # scheduled jobs only where a test turns them on
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    app = make_app(database_url, tmp_path / "instance")
    yield app
    from governance.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def call(app: Any) -> Iterator[Any]:
    """A service call acting as the system, inside an app context."""
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():
        yield deps(app).call(db.session)
        db.session.rollback()


def make_token(app: Any, role: str, account: str | None = None, **kwargs: Any) -> str:
    """Create a service account holding ``role`` and return a fresh bearer token."""
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():
        c = deps(app).call(db.session)
        sa = service_accounts.service_account(c, account or f"test-{role}", [role])
        token = service_accounts.create_token(c, sa, **kwargs)
        db.session.commit()
    return token


@pytest.fixture
def crm_token(app: Any) -> str:
    return make_token(app, "crm_app")


@pytest.fixture
def crm(crm_token: str) -> dict[str, str]:
    """Headers of the CRM application (service role crm_app), declaring the purpose
    ``support`` (reads of customer data need one: X-Purpose)."""
    return {"Authorization": f"Bearer {crm_token}", "X-Purpose": "support"}


CUSTOMER = {
    "external_ref": "CRM-1",
    "full_name": "  Alice   Example ",
    "email": " Alice.Example@Example.COM ",
    "phone": "+86 138 0013 8000",
    "date_of_birth": "1949-12-31",
    "national_id": "11010519491231002X",
    "address": {"line1": "1 Example Road", "city": "Beijing", "postal_code": "100000"},
    "country": "cn",
    "language": "zh-CN",
    "marketing": {"email": True},
}


def customer_doc(**overrides: Any) -> dict[str, Any]:
    """A valid customer document with ``overrides`` applied (None removes a key)."""
    doc = {**CUSTOMER, **overrides}
    return {k: v for k, v in doc.items() if v is not None}


def make_customer(call: Any, **overrides: Any) -> dict[str, Any]:
    """Create a customer through the service and commit; returns its (system-masked) document."""
    from governance.services.customers import store as customers

    doc = customers.create_customer(call, customer_doc(**overrides))
    call.session.commit()
    return doc


PASSWORD = "Correct-Horse-Battery-42"


def make_user(app: Any, role: str | list[str], email: str | None = None, enrol: bool = True) -> Any:
    """Create a person account (TOTP enrolled unless ``enrol`` is false); returns (id, secret)."""
    from governance.bootstrap import deps
    from governance.extensions import db

    roles = [role] if isinstance(role, str) else role
    with app.app_context():
        c = deps(app).call(db.session)
        user = identity.create_user(c, email or f"{'-'.join(roles)}@example.com", roles, PASSWORD)
        secret = None
        if enrol:
            secret = identity.begin_enrolment(c, user)["secret"]
            user.totp_enrolled = True
        db.session.commit()
        return user.id, secret


def login_as(app: Any, client: Any, role: str | list[str], email: str | None = None) -> str:
    """Give ``client`` a signed-in console session (password and MFA done) for a new user."""
    import time
    from datetime import UTC, datetime, timedelta

    from governance.extensions import db
    from governance.services.identity.sessions import start_session

    user_id, _ = make_user(app, role, email)
    with app.app_context():
        sid = start_session(db.session, user_id, datetime.now(UTC), timedelta(minutes=30))
        db.session.commit()
    with client.session_transaction() as sess:
        sess.update(
            _user_id=user_id,
            _fresh=True,
            mfa_ok=True,
            seen=int(time.time()),
            auth_at=int(time.time()),
            sid=sid,
        )
    # API reads of customer data declare a purpose: a person who may declare ``support``
    # sends it by default (a request's own X-Purpose header wins).
    roles = {role} if isinstance(role, str) else set(role)
    if roles & {"dpo", "support"}:
        client.environ_base["HTTP_X_PURPOSE"] = "support"
    return user_id


# --- browser (tests/e2e): Debian's chromium driven by Playwright, no browser download -------
from werkzeug.serving import make_server  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def csrf_headers(client: Any) -> dict[str, str]:
    """``X-CSRFToken`` for API writes with a console session (taken from the account page)."""
    import re

    page = client.get("/account").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on /account"
    return {"X-CSRFToken": match.group(1)}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    """Keep each phase's report on the test item (the browser suite saves its step
    screenshots when the call failed: ``tests/e2e/e2e_helpers.py``)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# The browser suite's step screenshots (tests/e2e/artifacts/ on failure, docs/screenshots/
# with GOVERNANCE_SCREENSHOTS=1) and axe-core (vendored from npm, tests/e2e/vendor/).
E2E_ARTIFACTS = Path(__file__).resolve().parent / "e2e" / "artifacts"
README_SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
AXE = Path(__file__).resolve().parent / "e2e" / "vendor" / "axe.min.js"


class Steps:
    """Names each step of a journey and keeps its screenshot."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.shots: list[tuple[str, bytes]] = []

    def __call__(self, name: str, *, readme: str | None = None) -> None:
        png = self.page.screenshot(full_page=True)
        self.shots.append((name, png))
        if readme and os.environ.get("GOVERNANCE_SCREENSHOTS"):
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            (README_SHOTS / f"{readme}.png").write_bytes(png)


@pytest.fixture
def steps(request: Any, axe_page: Any) -> Iterator[Steps]:
    page = axe_page
    kept = Steps(page)
    yield kept
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        folder = E2E_ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            kept.shots.append(("at-failure", page.screenshot(full_page=True)))
        except Exception:  # noqa: BLE001  (the page may be gone; the earlier steps are kept)
            pass
        for number, (name, png) in enumerate(kept.shots, 1):
            (folder / f"{number:02d}-{name}.png").write_bytes(png)


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    """A page with axe-core loaded into every document it opens."""
    context = browser.new_context(accept_downloads=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
