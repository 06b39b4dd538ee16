"""The audit views read as a person would: actors by name, customers and service accounts told
apart, short ids unique on the page, an entry in full with the reason given for a reveal (the
audit-trail PDF lists it too)."""

from __future__ import annotations

import io
import re
from typing import Any

from conftest import customer_doc, login_as
from pypdf import PdfReader

from governance.services.auditlog.names import short_ids


def _reveal(app: Any, crm: dict[str, str], reason: str) -> tuple[Any, str]:
    client = app.test_client()
    created = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    login_as(app, client, "dpo", "dpo@example.com")
    page = client.get(f"/customers/{created['id']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    res = client.post(f"/customers/{created['id']}", data={"reason": reason, "csrf_token": token})
    assert res.status_code == 200
    integrate(app)
    return client, created["id"]


def integrate(app: Any) -> None:
    """Integrate the queued entries now (a server's integrator does it within a second)."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.auditlog.integrator import integrate_pending

    with app.app_context():
        integrate_pending(db.engine, deps(app).call(db.session).audit)


def test_audit_page_names_actors_and_marks_kinds(app: Any, crm: dict[str, str]) -> None:
    client, customer_id = _reveal(app, crm, "DSAR-2026-014 access request")
    html = client.get("/audit").get_data(as_text=True)
    assert "dpo@example.com" in html  # the person by email, not "user 01a2490a"
    assert re.search(r'<span class="tag">service</span> <a [^>]+>test-crm_app</a>', html)
    assert '<span class="tag">customer</span>' in html
    assert customer_id[-6:] in html and ">reveal<" in html


def test_entry_detail_shows_the_reveal_reason(app: Any, crm: dict[str, str]) -> None:
    client, _ = _reveal(app, crm, "DSAR-2026-014 access request")
    html = client.get("/audit?action=customer.read").get_data(as_text=True)
    seqs = re.findall(r'href="/audit/entries/(\d+)"', html)
    details = [client.get(f"/audit/entries/{s}").get_data(as_text=True) for s in seqs]
    revealed = [d for d in details if 'id="reveal-reason"' in d]
    assert revealed and "DSAR-2026-014 access request" in revealed[0]
    assert client.get("/audit/entries/999999").status_code == 404


def test_bad_filter_stays_on_the_page_beside_its_field(app: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    res = client.get("/audit?from=yesterday")
    html = res.get_data(as_text=True)
    assert res.status_code == 422
    assert 'id="f-from-error"' in html and 'value="yesterday"' in html


def test_audit_trail_pdf_lists_reveal_reasons(app: Any, crm: dict[str, str]) -> None:
    client, _ = _reveal(app, crm, "DSAR-2026-014 access request")
    pdf = client.get("/audit/report")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:300]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Reveals in clear" in text and "DSAR-2026-014" in text
    assert "dpo@example.com" in text


def test_short_ids_are_unique_on_the_page() -> None:
    ids = [f"01a2490a-0000-7000-8000-00000000{n:04d}" for n in range(200)]
    short = short_ids(ids)
    assert len(set(short.values())) == 200
    assert all(len(v) <= 10 for v in short.values())


def test_audit_page_shows_the_newest_entries_first_and_pages_to_older(
    app: Any, crm: dict[str, str]
) -> None:
    client, _ = _reveal(app, crm, "DSAR-2026-015")
    html = client.get("/audit?limit=2").get_data(as_text=True)
    seqs = [int(s) for s in re.findall(r'href="/audit/entries/(\d+)"', html)]
    size = max(seqs)
    assert seqs == [size, size - 1]  # the newest first
    older = re.search(r'href="\?limit=2&(?:amp;)?before=(\d+)" rel="next"', html)
    assert older and int(older.group(1)) == size - 1
    page2 = client.get(f"/audit?limit=2&before={older.group(1)}").get_data(as_text=True)
    assert [int(s) for s in re.findall(r'href="/audit/entries/(\d+)"', page2)] == [
        size - 2,
        size - 3,
    ]
    assert 'id="newest-entries"' in page2
    assert client.get("/audit?before=soon").status_code == 422  # a bad cursor stays on the page


def test_an_actor_or_subject_filters_the_page_in_one_click(app: Any, crm: dict[str, str]) -> None:
    client, customer_id = _reveal(app, crm, "DSAR-2026-016")
    html = client.get("/audit").get_data(as_text=True)
    assert f'href="?subject={customer_id}"' in html
    only = client.get(f"/audit?subject={customer_id}").get_data(as_text=True)
    assert f'href="?subject={customer_id}"' not in only  # already filtered: no link to itself
    assert re.findall(r'href="/audit/entries/(\d+)"', only)
