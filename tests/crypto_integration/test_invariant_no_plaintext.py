"""ARCHITECTURE invariant 1: no plaintext PII at rest or in logs.

Distinctive values go in through the API; then the raw bytes of the SQLite file and its WAL (or,
on PostgreSQL, every table's raw contents via COPY … TO STDOUT) and everything the application
logged are scanned for them, in their given and normalised forms. Repeated after erasure.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from governance.extensions import db

VALUES = {
    "full_name": "Zebulon Quixote-Marchetti",
    "email": "Zebulon.Quixote@Invariant-Example.org",
    "phone": "+86 139 8765 4321",
    "national_id": "11010519491231002X",
    "address": {"line1": "77 Xylophone Boulevard", "city": "Quzhouville", "postal_code": "314159"},
}
NEEDLES = [
    "Zebulon", "Quixote", "zebulon.quixote@invariant-example.org", "Invariant-Example",
    "8765 4321", "+8613987654321", "13987654321", "11010519491231002X", "Xylophone",
    "Quzhouville", "Unguessable-Note-Phrase", "Wobbegong-Comment",
]  # fmt: skip


def raw_bytes(app: Any) -> bytes:
    """Everything the database holds, as raw bytes."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            path = Path(engine.url.database)
            return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        out = io.BytesIO()
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for table in inspect(engine).get_table_names():
                with cursor.copy(f'COPY "{table}" TO STDOUT') as copy:
                    for chunk in copy:
                        out.write(bytes(chunk))
        finally:
            raw.close()
        return out.getvalue()


def found(haystack: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode() in haystack or n.lower().encode() in haystack.lower()]


def test_no_plaintext_in_database_or_logs(
    app: Any,
    client: Any,
    crm: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    doc = client.post("/api/v1/customers", headers=crm, json={**VALUES, "country": "CN"}).json
    base = f"/api/v1/customers/{doc['id']}"
    assert (
        client.post(
            f"{base}/interactions",
            headers=crm,
            json={
                "channel": "phone",
                "occurred_at": "2026-01-01T00:00:00Z",
                "note": "Unguessable-Note-Phrase, call back on 139 8765 4321",
            },
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"{base}/orders",
            headers=crm,
            json={
                "ordered_at": "2026-01-01",
                "amount": "1",
                "currency": "CNY",
                "comment": "Wobbegong-Comment",
            },
        ).status_code
        == 201
    )
    assert (
        client.get(f"{base}?purpose=support", headers=crm).json["email"] == VALUES["email"].lower()
    )
    assert client.get(f"/api/v1/customers?email={VALUES['email']}", headers=crm).json["items"]
    # a failing write must not echo values either
    client.post("/api/v1/customers", headers=crm, json={**VALUES, "date_of_birth": "Zebulon"})
    assert found(raw_bytes(app)) == []
    logs = caplog.text + "".join(capfd.readouterr())
    assert found(logs.encode()) == []

    with app.app_context():
        from governance.bootstrap import deps
        from governance.services import customers

        customers.erase_customer(deps(app).call(db.session), doc["id"], "DSAR-9")
        db.session.commit()
    assert found(raw_bytes(app)) == []
    assert client.get(base, headers=crm).status_code == 410
