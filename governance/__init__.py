"""Governance server: the Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.config import load_config

if TYPE_CHECKING:  # Flask loads only when an app is built: services and models stay Flask-free.
    from flask import Flask

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from ``GOVERNANCE_*`` settings, with ``config`` overriding them.

    Raises governance.config.ConfigError (naming the variable) on a malformed or missing setting.
    """
    from governance.extensions import csrf, db, login_manager, migrate
    from governance.web.app import GovernanceFlask
    from governance.web.sessions import CookieSessions

    overrides = dict(config or {})
    testing = bool(overrides.pop("TESTING", False))
    settings = load_config(overrides=overrides)
    Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=settings["LOG_LEVEL"].upper())

    app = GovernanceFlask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.session_interface = CookieSessions()
    app.config.update(settings)
    app.config.update(
        TESTING=testing,
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        MAX_CONTENT_LENGTH=settings["MAX_BODY_BYTES"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    from governance.database import configure_engine, engine_options

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings["DATABASE_URL"])
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    from governance.bootstrap import init_dependencies
    from governance.services.jobs import kinds as jobkinds  # noqa: F401  (registers job kinds)

    init_dependencies(app, may_create=testing or settings["DEV"])

    from governance.api import bp as api_bp
    from governance.console import bp as console_bp
    from governance.web.edge import register_error_handlers, register_guards

    # The API authenticates state-changing calls by bearer token only (session cookies are
    # accepted for safe methods), so CSRF tokens are for the console's forms alone.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(console_bp)
    register_guards(app)
    register_error_handlers(app)
    from governance.web.i18n import init_i18n

    init_i18n(app)
    _remember_cookie_for_console_only(app)
    return app


def _remember_cookie_for_console_only(app: Flask) -> None:
    """Run Flask-Login's remember-cookie hook after console requests only, not after API calls
    (where no session exists to carry its marker; it costs every call a few microseconds)."""
    from governance.extensions import login_manager

    hook = login_manager._update_remember_cookie
    hooks = app.after_request_funcs.get(None, [])
    if hook in hooks:
        hooks.remove(hook)
        app.after_request_funcs.setdefault("console", []).append(hook)
