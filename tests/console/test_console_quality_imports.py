"""Data quality with a merge action, and import upload with the row report, in the console."""

from __future__ import annotations

import io
import re
from typing import Any

from conftest import PASSWORD, customer_doc, login_as
from test_console_audit_views import integrate
from test_console_forms import csrf
from werkzeug.datastructures import MultiDict


def _twins(app: Any, client: Any, crm: dict[str, str]) -> tuple[str, str]:
    """Two customers whose email blind index is the same, as legacy data before the server's
    duplicate check would hold them (the API refuses to create such a pair)."""
    from sqlalchemy import update

    from governance.extensions import db
    from governance.models import Customer

    first = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json["id"]
    other = customer_doc(full_name="Alicia Example", email="alice.other@example.com",
                         phone="+8613800138001", national_id=None, external_ref=None)  # fmt: skip
    second = client.post("/api/v1/customers", json=other, headers=crm).json["id"]
    with app.app_context():
        index = db.session.get(Customer, first).email_bidx
        db.session.execute(update(Customer).where(Customer.id == second).values(email_bidx=index))
        db.session.commit()
    return first, second


def test_quality_page_lists_duplicates_and_merges_after_the_password(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    keep, dup = _twins(app, app.test_client(), crm)
    login_as(app, client, "dpo")
    html = client.get("/quality").get_data(as_text=True)
    assert 'data-kind="email"' in html and dup[-6:] in html
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    form = {"target": keep, "source": dup, "request_ref": "DQ-2026-001",
            "csrf_token": csrf(client, "/quality")}  # fmt: skip
    res = client.post("/quality/merge", data=form)
    assert res.status_code == 302 and res.location.startswith("/reauth")
    page = client.post(
        res.location, data={"password": PASSWORD, "csrf_token": csrf(client, "/reauth")}
    ).get_data(as_text=True)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    done = client.post("/quality/merge", data=MultiDict(fields))
    assert done.status_code == 302 and done.location == f"/customers/{keep}"
    integrate(app)
    merged = client.get("/api/v1/audit/entries?action=customer.merge").json["items"]
    assert merged[-1]["details"]["merged_from"] == dup
    assert merged[-1]["details"]["request_ref"] == "DQ-2026-001"


def test_analyst_sees_the_summary_but_cannot_merge(app: Any, client: Any) -> None:
    login_as(app, client, "analyst")
    html = client.get("/quality").get_data(as_text=True)
    assert 'id="quality-fields"' in html and "merge-form" not in html


def test_import_upload_shows_the_row_report(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    body = (
        "full_name,email,phone,country\n"
        "Bo Li,bo.li@example.com,+8613800138011,CN\n"
        "Bad Row,not-an-email,,CN\n"
    )
    res = client.post(
        "/imports",
        data={"file": (io.BytesIO(body.encode()), "people.csv"),
              "csrf_token": csrf(client, "/imports")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert res.status_code == 302 and res.location.startswith("/jobs/")
    job = client.get(res.location).get_data(as_text=True)
    assert 'id="job-result"' in job and "<pre>" not in job
    assert re.search(r"<dt>Created</dt><dd>1</dd>", job)
    assert re.search(r"<dt>Rejected</dt><dd>1</dd>", job)
    assert "Row" in job and "rejected" in job  # the per-row table


def test_import_refuses_other_files_on_the_form(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.post(
        "/imports",
        data={"file": (io.BytesIO(b"x"), "people.xlsx"), "csrf_token": csrf(client, "/imports")},
        content_type="multipart/form-data",
    )
    assert res.status_code == 422 and 'id="file-error"' in res.get_data(as_text=True)
