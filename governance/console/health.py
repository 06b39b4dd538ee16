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
    body: dict[str, Any] = {"ready": ready}
    if ready:
        body["backups"] = _backups()
    return jsonify(body), 200 if ready else 503


def _backups() -> dict[str, Any]:
    """Backup health as detail (a failed or overdue verification does not stop serving)."""
    from sqlalchemy.orm import Session

    from governance.bootstrap import deps
    from governance.database import read_connection
    from governance.services.backups.status import health_of

    app_deps = deps(current_app)
    try:
        with read_connection(db.engine) as conn, Session(bind=conn) as session:
            found = health_of(session, app_deps.settings, app_deps.clock())
    except Exception:  # a probe never fails on its detail
        return {"state": "unknown"}
    return {k: v for k, v in found.items() if k in ("state", "detail", "backup_id")}
