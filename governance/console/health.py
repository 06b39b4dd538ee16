"""Liveness and readiness probes (public, no personal data)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify

from governance.console import bp
from governance.database import database_health
from governance.extensions import db


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness plus database reachability and migration state (no personal data)."""
    migrate = current_app.extensions["migrate"].migrate
    healthy, checks = database_health(db.engine, migrate.get_config())
    return jsonify({"status": "ok" if healthy else "degraded", "checks": checks}), (
        200 if healthy else 503
    )


@bp.get("/readyz")
def readyz() -> Any:
    """Ready to serve: healthy and keys loaded."""
    response, status = healthz()
    ready = status == 200 and "governance" in current_app.extensions
    return jsonify({"ready": ready}), 200 if ready else 503
