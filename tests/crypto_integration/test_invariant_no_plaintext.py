"""ARCHITECTURE invariant 1: no plaintext PII at rest or in logs.

Distinctive values (names in Latin and Chinese script, e-mails, phones, CN resident ids and a
passport number, birth dates, addresses, order comments and items, interaction notes, external
references) go in through the API. Then everything is scanned for them, in their given and
normalised forms (lower-cased e-mail, E.164 phone, upper-cased id), as raw UTF-8, JSON ``\\u``
escapes and hex: every file the test's server wrote (the SQLite database, its WAL, the instance
folder), on PostgreSQL every table's raw contents via ``COPY … TO STDOUT`` (binary format, so
bytea columns come out as the stored bytes), and everything logged (caplog at DEBUG, captured
stdout/stderr, CLI output). The scan runs after the writes, again after a KEK rotation, and
again after an erasure.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import csrf_headers, login_as
from sqlalchemy import inspect

from governance.cli import cli
from governance.extensions import db

CUSTOMERS = [
    {
        "full_name": "Zebulon Quixote-Marchetti",
        "email": "Zebulon.Quixote@Invariant-Example.org",
        "phone": "+86 139 8765 4321",
        "national_id": "330382193711234577",
        "date_of_birth": "1937-11-23",
        "address": {"line1": "77 Xylophone Boulevard", "city": "Quzhouville",
                    "postal_code": "314159"},
        "country": "CN",
    },
    {
        "full_name": "欧阳翠鸾",
        "email": "CuiLuan.OuYang@Wumingshan-Mail.cn",
        "phone": "137 1234 9876",
        "national_id": "110105195810027340",
        "date_of_birth": "1958-10-02",
        "address": {"line1": "青藏高原路 88号", "city": "Wumingshan"},
        "country": "CN",
    },
    {
        "full_name": "Philippa Thistlewaite",
        "email": "P.Thistlewaite@Quagmire-Example.co.uk",
        "phone": "+44 20 7946 0958",
        "national_id": "gb7q4k9z2",
        "date_of_birth": "1966-06-19",
        "address": {"line1": "13 Pemberley Crescent", "city": "Lower Slaughterbury"},
        "country": "GB",
        "external_ref": "Ref-Kumquat-Ocelot",
    },
]  # fmt: skip
NOTES = ["Unguessable-Note-Phrase, call back on 139 8765 4321", "Narwhal-Callback-Memo 翠鸾"]
COMMENTS = ["Wobbegong-Comment", "Ptarmigan delivery instructions"]
ITEMS = [[{"sku": "SKU-1", "engraving": "Capybara-Engraving"}], ["Gift for Quetzalcoatl-Item"]]
NEEDLES = [
    # names, e-mails (given and lower-cased), phones (given, national, E.164)
    "Zebulon", "Quixote", "Marchetti", "欧阳翠鸾", "翠鸾", "Philippa", "Thistlewaite",
    "zebulon.quixote@invariant-example.org", "Invariant-Example", "cuiluan.ouyang",
    "Wumingshan-Mail", "p.thistlewaite@quagmire-example.co.uk", "Quagmire-Example",
    "8765 4321", "13987654321", "+8613987654321", "1234 9876", "13712349876", "+8613712349876",
    "7946 0958", "2079460958", "+442079460958",
    # ids (normalised upper case), birth dates, addresses, free text
    "330382193711234577", "110105195810027340", "GB7Q4K9Z2", "1937-11-23", "1958-10-02",
    "1966-06-19", "Xylophone", "Quzhouville", "青藏高原路", "Wumingshan", "Pemberley",
    "Slaughterbury", "Unguessable-Note-Phrase", "Narwhal-Callback", "Wobbegong-Comment",
    "Ptarmigan", "Kumquat-Ocelot", "Capybara-Engraving", "Quetzalcoatl-Item",
]  # fmt: skip


def forms(needle: str) -> set[bytes]:
    """The byte strings a value could leak as: UTF-8, JSON escapes, hex (upper and lower)."""
    raw = needle.encode("utf-8")
    escaped = json.dumps(needle)[1:-1].encode("ascii")
    return {raw, escaped, escaped.upper(), raw.hex().encode(), raw.hex().upper().encode()}


def found(haystack: bytes) -> list[str]:
    """Needles present in ``haystack`` in any form, case-insensitively for ASCII."""
    lowered = haystack.lower()
    return [n for n in NEEDLES if any(f.lower() in lowered for f in forms(n))]


def raw_bytes(app: Any, folder: Path) -> bytes:
    """Every file under the test's folder, plus (PostgreSQL) every table's raw contents."""
    files = b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            assert Path(engine.url.database).is_relative_to(folder)  # the file and its WAL
            return files
        out = io.BytesIO()
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for table in inspect(engine).get_table_names():
                with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                    for chunk in copy:
                        out.write(bytes(chunk))
        finally:
            raw.close()
        return files + out.getvalue()


def write_everything(client: Any, crm: dict[str, str]) -> list[str]:
    ids = []
    for n, values in enumerate(CUSTOMERS):
        res = client.post("/api/v1/customers", headers=crm, json=values)
        assert res.status_code == 201, res.json
        ids.append(res.json["id"])
        base = f"/api/v1/customers/{res.json['id']}"
        note = {"channel": "phone", "occurred_at": "2026-01-01T00:00:00Z", "note": NOTES[n % 2]}
        assert client.post(f"{base}/interactions", headers=crm, json=note).status_code == 201
        order = {"ordered_at": "2026-01-01", "amount": "1", "currency": "CNY",
                 "comment": COMMENTS[n % 2], "items": ITEMS[n % 2]}  # fmt: skip
        assert client.post(f"{base}/orders", headers=crm, json=order).status_code == 201
    return ids


def read_everything(client: Any, crm: dict[str, str], ids: list[str]) -> None:
    """Reads and lookups that handle the values in clear (decryption, blind-index filters)."""
    doc = client.get(f"/api/v1/customers/{ids[0]}", headers=crm).json
    assert doc["email"] == CUSTOMERS[0]["email"].lower() and doc["phone"] == "+8613987654321"
    assert client.get(f"/api/v1/customers/{ids[1]}", headers=crm).json["full_name"] == "欧阳翠鸾"
    for query in ("email=zebulon.QUIXOTE@invariant-example.org", "phone=13712349876",
                  "national_id=gb7q4k9z2", "external_ref=Ref-Kumquat-Ocelot"):  # fmt: skip
        assert len(client.get(f"/api/v1/customers?{query}", headers=crm).json["items"]) == 1
    orders = client.get(f"/api/v1/customers/{ids[1]}/orders", headers=crm).json
    assert orders["items"][0]["items"] == ITEMS[1]
    notes = client.get(f"/api/v1/customers/{ids[0]}/interactions", headers=crm).json
    assert NOTES[0] in json.dumps(notes, ensure_ascii=False)
    patch = {"address": {"line1": "78 Xylophone Boulevard", "city": "Quzhouville"}}
    assert client.patch(f"/api/v1/customers/{ids[0]}", headers=crm, json=patch).status_code == 200


def assert_no_plaintext(app: Any, folder: Path, logs: str, when: str, control: str) -> None:
    """``control``: a value stored in clear (a customer id), proving the scan sees the rows."""
    at_rest = raw_bytes(app, folder)
    assert control.encode() in at_rest, "the scan does not see the stored rows"
    assert found(at_rest) == [], f"plaintext at rest {when}"
    assert found(logs.encode("utf-8")) == [], f"plaintext in the logs {when}"


def test_no_plaintext_in_database_or_logs(
    app: Any,
    client: Any,
    crm: dict[str, str],
    runner: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    ids = write_everything(client, crm)
    read_everything(client, crm, ids)
    # failing writes must not echo values either (duplicate, invalid date)
    assert client.post("/api/v1/customers", headers=crm, json=CUSTOMERS[0]).status_code == 409
    bad = {**CUSTOMERS[2], "date_of_birth": "Zebulon", "email": "x@example.org", "phone": None}
    assert client.post("/api/v1/customers", headers=crm, json=bad).status_code == 422
    out: list[str] = []
    logs = caplog.text + "".join(capfd.readouterr())
    assert_no_plaintext(app, tmp_path, logs, "after writes", ids[2])

    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    out.append(rotated.output)
    read_everything(client, crm, ids)
    logs = caplog.text + "".join(capfd.readouterr()) + "".join(out)
    assert_no_plaintext(app, tmp_path, logs, "after a key rotation", ids[2])

    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    erased = dpo.delete(f"/api/v1/customers/{ids[0]}?request_ref=DSAR-9", headers=csrf_headers(dpo))
    assert erased.status_code in (200, 204), erased.get_data(as_text=True)
    assert client.get(f"/api/v1/customers/{ids[0]}", headers=crm).status_code == 410
    logs = caplog.text + "".join(capfd.readouterr()) + "".join(out)
    assert_no_plaintext(app, tmp_path, logs, "after an erasure", ids[2])
