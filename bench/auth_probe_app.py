"""bench/api.py's probe for "authentication + Casbin alone": the real governance app plus one
bench-only route behind the normal guard (bearer token lookup, Casbin check) that then does
exactly what the baseline does (one SELECT of the row, returned as JSON). Not product code."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, jsonify
from sqlalchemy import text

from governance import create_app
from governance.extensions import db

probe = Blueprint("bench", __name__, url_prefix="/api/v1/bench")
QUERY = text("SELECT * FROM customers WHERE id = :id")


@probe.get("/row/<customer_id>")
def row(customer_id: str):  # type: ignore[no-untyped-def]
    found = db.session.execute(QUERY, {"id": customer_id}).mappings().first()
    db.session.rollback()
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
