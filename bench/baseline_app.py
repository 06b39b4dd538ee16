"""The bare baseline for bench/api.py: one route, one SQL query, nothing else.

It reads the same customer row the governed API reads (by id, one SELECT) and returns it as
JSON: no authentication, no authorisation, no decryption, no masking, no audit. Every governed
path is reported as a ratio to this in the same run.

Its engine has the server's own connection-pool settings (``governance.database.engine_options``
and ``configure_engine``: on PostgreSQL a liveness ping only for a connection idle in the pool
for 10 s or more), so reaching the database costs both sides the same and the ratio measures
what the app adds around the query.
"""

from __future__ import annotations

import base64
import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

from governance.database import configure_engine, engine_options, read_connection

URL = os.environ["GOVERNANCE_DATABASE_URL"]
if URL.startswith("postgresql://"):
    URL = URL.replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(URL, **engine_options(URL))
# The server's per-connection settings too (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE
# for transactions), so the floor's INSERT commits as the server's would; the bare read runs
# without a transaction, as before.
configure_engine(engine)
QUERY = text("SELECT * FROM customers WHERE id = :id")
# The floor of "audit or nothing": the same read plus one INSERT of a row the size of a queued
# audit entry (leaf of ~450 bytes, its 32-byte hash, the filter columns) in the same transaction.
FLOOR_TABLE = text(
    "CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, "
    "digest BYTEA NOT NULL)"
    if URL.startswith("postgresql")
    else "CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "body TEXT NOT NULL, digest BLOB NOT NULL)"
)
INSERT_FLOOR = text("INSERT INTO bench_floor (body, digest) VALUES (:body, :digest)")
BODY = "x" * 600  # ≈ a v2 leaf plus the filter columns stored beside it
DIGEST = bytes(32)
app = Flask(__name__)


def _floor_table() -> None:
    try:
        with engine.begin() as conn:
            conn.execute(FLOOR_TABLE)
    except Exception:  # the other gunicorn worker created it at the same moment
        pass


_floor_table()


@app.get("/row/<customer_id>")
def row(customer_id: str):  # type: ignore[no-untyped-def]
    with read_connection(engine) as conn:
        found = conn.execute(QUERY, {"id": customer_id}).mappings().first()
    return _answer(found)


@app.get("/row_insert/<customer_id>")
def row_insert(customer_id: str):  # type: ignore[no-untyped-def]
    """The bare read plus one INSERT of an audit-entry-sized row, committed together."""
    with engine.begin() as conn:
        found = conn.execute(QUERY, {"id": customer_id}).mappings().first()
        conn.execute(INSERT_FLOOR, {"body": BODY, "digest": DIGEST})
    return _answer(found)


def _answer(found):  # type: ignore[no-untyped-def]
    if found is None:
        abort(404)
    return jsonify(
        {
            k: base64.b64encode(v).decode() if isinstance(v, bytes) else str(v)
            for k, v in found.items()
        }
    )
