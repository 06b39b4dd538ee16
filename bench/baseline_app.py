"""The bare baseline for bench/api.py: one route, one SQL query, nothing else.

It reads the same customer row the governed API reads (by id, one SELECT) and returns it as
JSON: no authentication, no authorisation, no decryption, no masking, no audit. Every governed
path is reported as a ratio to this in the same run.

Its engine has the server's own connection-pool settings (``governance.database.engine_options``:
on PostgreSQL a liveness ping when a connection is taken from the pool), so reaching the
database costs both sides the same and the ratio measures what the app adds around the query.
"""

from __future__ import annotations

import base64
import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

from governance.database import engine_options

URL = os.environ["GOVERNANCE_DATABASE_URL"]
if URL.startswith("postgresql://"):
    URL = URL.replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(URL, **engine_options(URL))
QUERY = text("SELECT * FROM customers WHERE id = :id")
app = Flask(__name__)


@app.get("/row/<customer_id>")
def row(customer_id: str):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        found = conn.execute(QUERY, {"id": customer_id}).mappings().first()
    if found is None:
        abort(404)
    return jsonify(
        {
            k: base64.b64encode(v).decode() if isinstance(v, bytes) else str(v)
            for k, v in found.items()
        }
    )
