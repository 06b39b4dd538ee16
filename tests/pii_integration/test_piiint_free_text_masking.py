"""Personal data inside free text is masked like the structured field it corresponds to.

Support sees a customer's ``email`` and ``phone`` masked; an interaction note holding the same
kind of data must not show it in clear to support (API, console), while the CRM, which sees
those fields in clear, reads the note as written. The spans are found once at write time and
stored sealed beside the note; a note written before that (no stored spans) is analysed on read.
"""

from __future__ import annotations

from typing import Any

from conftest import customer_doc, login_as
from piiint_helpers import csrf_token, system_call

from governance.security.masking import RoleSpec, VisibilityPolicy
from governance.services.pii.detection.results import Finding

NOTE = (
    "客户张伟来电，要求回拨13912345678，新邮箱 zhang.wei@example.cn，"
    "also reachable on +86 138 0013 8000."
)
CLEAR_VALUES = ("13912345678", "zhang.wei@example.cn", "138 0013 8000")


def _customer_with_note(client: Any, crm: dict[str, str], note: str = NOTE) -> str:
    customer = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    res = client.post(
        f"/api/v1/customers/{customer['id']}/interactions",
        headers=crm,
        json={"channel": "phone", "occurred_at": "2026-01-01T10:00:00Z", "note": note},
    )
    assert res.status_code == 201, res.json
    assert res.json["note"] == note  # the CRM sees email and phone in clear: the note as written
    return str(customer["id"])


def test_support_reads_notes_with_contact_details_masked_like_the_fields(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer_id = _customer_with_note(client, crm)
    support = app.test_client()
    login_as(app, support, "support")
    res = support.get(f"/api/v1/customers/{customer_id}/interactions")
    assert res.status_code == 200, res.json
    note = res.json["items"][0]["note"]
    for value in CLEAR_VALUES:
        assert value not in note
    # Same mask styles as the structured fields: phone keeps 3 + 4 digits, email 1 char + domain.
    assert "回拨139****5678" in note
    assert "z***@example.cn" in note
    assert "+86138****8000" in note
    assert "张伟" in note  # support sees full_name in clear, so names stay
    assert support.get(f"/api/v1/customers/{customer_id}").json["email"] == "a***@example.com"

    page = support.get(f"/customers/{customer_id}").get_data(as_text=True)
    for value in CLEAR_VALUES:
        assert value not in page
    assert "z***@example.cn" in page

    crm_note = client.get(f"/api/v1/customers/{customer_id}/interactions", headers=crm).json
    assert crm_note["items"][0]["note"] == NOTE


def test_support_writing_a_note_gets_it_back_masked(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    customer = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    support = app.test_client()
    login_as(app, support, "support")
    res = support.post(
        f"/api/v1/customers/{customer['id']}/interactions",
        headers={"X-CSRFToken": csrf_token(support)},
        json={"channel": "email", "occurred_at": "2026-01-02T09:00:00Z", "note": NOTE},
    )
    assert res.status_code == 201, res.json
    for value in CLEAR_VALUES:
        assert value not in res.json["note"]
    crm_note = client.get(f"/api/v1/customers/{customer['id']}/interactions", headers=crm).json
    assert crm_note["items"][0]["note"] == NOTE


def test_note_stored_without_spans_is_analysed_on_read(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    """A note written before spans were stored (column empty) is still masked for support."""
    from governance.models import Interaction

    customer_id = _customer_with_note(client, crm)
    with system_call(app) as call:
        row = call.session.query(Interaction).filter_by(customer_id=customer_id).one()
        assert row.note_spans is not None and b"zhang.wei" not in row.note_spans
        row.note_spans = None
    support = app.test_client()
    login_as(app, support, "support")
    note = support.get(f"/api/v1/customers/{customer_id}/interactions").json["items"][0]["note"]
    for value in CLEAR_VALUES:
        assert value not in note
    assert "z***@example.cn" in note


def test_redacted_note_keeps_the_offsets_of_what_it_still_holds(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    """Redaction on write shortens the text; the stored spans point into the stored text."""
    note = "身份证11010519491231002X已核实，请回拨13912345678或发邮件到 zhang.wei@example.cn"
    customer_id = _customer_with_note_redacted(client, crm, note)
    support = app.test_client()
    login_as(app, support, "support")
    shown = support.get(f"/api/v1/customers/{customer_id}/interactions").json["items"][0]["note"]
    assert shown == "身份证<CN_RESIDENT_ID>已核实，请回拨139****5678或发邮件到 z***@example.cn"


def _customer_with_note_redacted(client: Any, crm: dict[str, str], note: str) -> str:
    customer = client.post("/api/v1/customers", json=customer_doc(), headers=crm).json
    res = client.post(
        f"/api/v1/customers/{customer['id']}/interactions",
        headers=crm,
        json={"channel": "phone", "occurred_at": "2026-01-01T10:00:00Z", "note": note},
    )
    assert res.status_code == 201, res.json
    assert "<CN_RESIDENT_ID>" in res.json["note"]
    return str(customer["id"])


def test_every_free_text_field_follows_the_fields_of_its_role() -> None:
    """Order comments too: a role seeing ``comment`` clear and ``email``/``full_name`` masked,
    or a national id hidden, gets those spans masked; a role seeing them clear keeps them."""
    from governance.services.pii.detection.textmask import mask_text, maskers_for

    policy = VisibilityPolicy(
        roles={
            "clerk": RoleSpec(
                "clerk",
                "person",
                True,
                {"comment": "clear", "email": "masked", "full_name": "masked"},
                frozenset({"email"}),
            ),
        },
        always_clear=frozenset(),
        masks={
            "comment": "text",
            "email": "email",
            "full_name": "name",
            "national_id": "id_number",
        },
    )
    fields = {"EMAIL_ADDRESS": "email", "PERSON": "full_name", "CN_RESIDENT_ID": "national_id"}
    text = "Bill Alice Baker at alice@example.com, id 11010519491231002X."
    spans = [
        Finding("PERSON", 5, 16, 0.85),
        Finding("EMAIL_ADDRESS", 20, 37, 1.0),
        Finding("CN_RESIDENT_ID", 42, 60, 1.0),
    ]
    masked = mask_text(text, spans, maskers_for(policy, ["clerk"], fields))
    assert masked == "Bill A*** B*** at a***@example.com, id [masked]."
    revealed = mask_text(text, spans, maskers_for(policy, ["clerk"], fields, reveal=True))
    assert revealed == "Bill A*** B*** at alice@example.com, id [masked]."
