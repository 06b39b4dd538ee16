"""Helpers for the key and encryption integration tests: extra server processes (more apps on the
same database), closed again so no PostgreSQL connection outlives its test."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path
from typing import Any

from conftest import make_app

from governance.config import ConfigError
from governance.extensions import db


class Apps:
    """More apps on one database, as other server or worker processes would be."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.made: list[Any] = []

    def make(self, instance: Path, **overrides: Any) -> Any:
        app = make_app(self.url, instance, **overrides)
        self.made.append(app)
        return app

    def refused(self, instance: Path, **overrides: Any) -> str:
        """Start an app that must refuse to start; returns the ConfigError message."""
        before = set(db._app_engines)  # Flask-SQLAlchemy's engines, per app (weak keys)
        try:
            make_app(self.url, instance, **overrides)
        except ConfigError as exc:
            message = str(exc)
        else:
            raise AssertionError("the server started")
        close_engines(before)
        return message

    def close(self) -> None:
        for app in self.made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def close_engines(keep: set[Any]) -> None:
    """Dispose the engines of apps that failed to start (their pools would leak connections)."""
    for app, engines in list(db._app_engines.items()):
        if app not in keep:
            for engine in engines.values():
                engine.dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
