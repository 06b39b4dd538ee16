"""bench/api.py's probe for "authentication + Casbin alone": the real governance app plus one
bench-only route behind the normal guard (bearer token check, rate limit, Casbin decision) whose
body is the baseline's, line for line: one SELECT of the row on a pooled connection, returned as
JSON. So the ratio to the baseline is the cost of the guard and the app around it, and nothing
else (the governed read's own transaction, decryption and audit are in the "governed read" row).
Not product code."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, jsonify
from sqlalchemy import text

from governance import create_app
from governance.database import read_connection
from governance.extensions import db

probe = Blueprint("bench", __name__, url_prefix="/api/v1/bench")
QUERY = text("SELECT * FROM customers WHERE id = :id")


@probe.get("/row/<customer_id>")
def row(customer_id: str):  # type: ignore[no-untyped-def]
    with read_connection(db.engine) as conn:  # as baseline_app.py: no session, no write lock
        found = conn.execute(QUERY, {"id": customer_id}).mappings().first()
    if found is None:
        abort(404)
    return jsonify(
        {
            k: base64.b64encode(v).decode() if isinstance(v, bytes) else str(v)
            for k, v in found.items()
        }
    )


app = create_app()
app.register_blueprint(probe)
