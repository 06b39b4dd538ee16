"""ARCHITECTURE invariant 3, at the byte level: after an erasure the subject's wrapped data key
(and its field ciphertext) is gone from the raw database, not just from the live rows. Otherwise
anyone holding a copy of the database file taken after the erasure, and the master key, could
still unwrap the key and read the "erased" subject.

On SQLite a deleted row stays in its page until the space is reused, unless ``PRAGMA
secure_delete=ON`` zeroes it, and the WAL keeps the page images from before the deletion until a
checkpoint truncates it (measured: both are needed; either alone leaves the wrapped key).
PostgreSQL's ``COPY`` sees live rows only (dead tuples wait for VACUUM), so there the test checks
the rows only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import csrf_headers, customer_doc, login_as
from sqlalchemy import text

from governance.extensions import db


def database_bytes(app: Any, folder: Path) -> bytes:
    """The raw database: SQLite file and WAL (PostgreSQL: the live wrapped keys only)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            rows = db.session.execute(text("SELECT wrapped FROM data_keys")).scalars()
            found = b"".join(bytes(r) for r in rows)
            db.session.remove()
            return found
    return b"".join(p.read_bytes() for p in folder.glob("governance.db*") if p.is_file())


def stored(app: Any, sql: str, cid: str) -> bytes:
    with app.app_context():
        value = bytes(db.session.execute(text(sql), {"s": cid}).scalar_one())
        db.session.remove()
        return value


def test_erased_subject_leaves_no_wrapped_key_in_the_database_file(
    app: Any, crm: dict[str, str], tmp_path: Path
) -> None:
    client = app.test_client()
    ids = [
        client.post("/api/v1/customers", headers=crm, json=customer_doc(
            external_ref=f"S{i}", email=f"s{i}@example.org", phone=None, national_id=None,
            full_name=f"Shred Person {i}")).json["id"]
        for i in range(12)
    ]  # fmt: skip
    cid = ids[5]
    wrapped = stored(app, "SELECT wrapped FROM data_keys WHERE subject_id = :s", cid)
    email = stored(app, "SELECT email_ct FROM customers WHERE id = :s", cid)
    assert wrapped in database_bytes(app, tmp_path)  # the scan sees the key while it lives
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    res = dpo.delete(f"/api/v1/customers/{cid}", headers=csrf_headers(dpo))
    assert res.status_code in (200, 204)
    after = database_bytes(app, tmp_path)
    assert wrapped not in after
    assert email not in after


def test_erasure_through_a_console_session_needs_a_recent_password(
    app: Any, crm: dict[str, str]
) -> None:
    cid = app.test_client().post("/api/v1/customers", headers=crm, json=customer_doc()).json["id"]
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    with dpo.session_transaction() as sess:
        sess["auth_at"] = 0  # the password was entered long ago
    res = dpo.delete(f"/api/v1/customers/{cid}", headers=csrf_headers(dpo))
    assert res.status_code == 401 and res.json["type"].endswith("/reauth-required")
    assert app.test_client().get(f"/api/v1/customers/{cid}", headers=crm).status_code == 200
