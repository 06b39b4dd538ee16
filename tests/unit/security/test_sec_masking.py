"""Field-level visibility (policies/visibility.yaml) and the masking functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from governance.security.masking import (
    RevealNotAllowed,
    VisibilityPolicyError,
    apply_visibility,
    default_visibility,
    load_visibility,
    mask_address,
    mask_date,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    people_mfa_roles,
)

ADDRESS = {
    "line1": "88 Jianguo Road",
    "line2": "Flat 1203",
    "city": "Beijing",
    "region": "Beijing",
    "postal_code": "100022",
}
CUSTOMER = {
    "id": "c-1",
    "external_ref": "CRM-000123",
    "full_name": "张三",
    "email": "zhang.san@example.cn",
    "phone": "+8613812345678",
    "date_of_birth": "1990-03-07",
    "national_id": "110101199003071234",
    "address": ADDRESS,
    "country": "CN",
    "language": "zh",
    "marketing": {"email": True},
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-02T00:00:00Z",
}
ORDER = {"id": "o-1", "customer_id": "c-1", "amount": Decimal("12.50"), "comment": "Gift for Li"}
INTERACTION = {"id": "i-1", "channel": "phone", "note": "Called from 13900001111"}


@pytest.mark.parametrize(
    ("masker", "value", "masked"),
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+8613812345678", "+86138****5678"),
        (mask_phone, "+14155552671", "+1415****2671"),
        (mask_phone, "+442079460958", "+44207****0958"),
        (mask_phone, "+85212345", "+852****45"),
        (mask_phone, "1234", "****"),
        (mask_email, "alice@example.com", "a***@example.com"),
        (mask_email, "Bob.Smith+crm@mail.example.org", "B***@mail.example.org"),
        (mask_email, "not-an-email", "[masked]"),
        (mask_email, "@example.com", "[masked]"),
        (mask_id_number, "110101199003071234", "**************1234"),
        (mask_id_number, "E12345678", "*****5678"),
        (mask_id_number, "1234567", "*******"),
        (mask_name, "张三", "张**"),
        (mask_name, "欧阳娜娜", "欧**"),
        (mask_name, "Alice Baker", "A*** B***"),
        (mask_name, "Jean-Luc  Picard", "J*** P***"),
        (mask_name, "Al", "A***"),
        (mask_date, "1990-03-07", "1990-**-**"),
        (mask_date, date(1985, 12, 31), "1985-**-**"),
        (mask_date, "07/03/1990", "****-**-**"),
        (mask_text, "Customer said her card ends 4242", "[masked]"),
        (mask_address, "1 Main Street, Springfield", "[masked]"),
    ],
)
def test_mask_functions(masker, value, masked) -> None:  # type: ignore[no-untyped-def]
    assert masker(value) == masked


def test_mask_address_keeps_city_and_region_only() -> None:
    assert mask_address(ADDRESS) == {
        "line1": "[masked]",
        "line2": "[masked]",
        "city": "Beijing",
        "region": "Beijing",
        "postal_code": "[masked]",
    }
    assert mask_address({"line1": "x", "line2": None, "city": "Lyon"})["line2"] is None


def test_dpo_sees_masked_by_default() -> None:
    shown, levels = apply_visibility("dpo", CUSTOMER)
    assert shown["full_name"] == "张**"
    assert shown["email"] == "z***@example.cn"
    assert shown["phone"] == "+86138****5678"
    assert shown["national_id"] == "**************1234"
    assert shown["date_of_birth"] == "1990-**-**"
    assert shown["external_ref"] == "******0123"
    assert shown["address"]["city"] == "Beijing" and shown["address"]["line1"] == "[masked]"
    assert shown["country"] == "CN" and shown["id"] == "c-1"
    assert levels["email"] == "masked" and levels["country"] == "clear"
    assert set(levels) == set(CUSTOMER)


def test_dpo_reveal_shows_clear() -> None:
    shown, levels = apply_visibility("dpo", CUSTOMER, reveal=True)
    assert shown == CUSTOMER
    assert set(levels.values()) == {"clear"}
    assert apply_visibility("dpo", INTERACTION, reveal=True)[0]["note"] == INTERACTION["note"]


def test_reveal_is_refused_for_roles_without_the_right() -> None:
    for roles in (["support"], ["crm_app"], ["auditor", "analyst"], ["nobody"]):
        with pytest.raises(RevealNotAllowed):
            apply_visibility(roles, CUSTOMER, reveal=True)


def test_support_sees_names_and_notes_but_masked_contact_details() -> None:
    shown, levels = apply_visibility("support", CUSTOMER)
    assert shown["full_name"] == "张三"
    assert shown["phone"] == "+86138****5678"
    assert shown["email"] == "z***@example.cn"
    assert shown["address"]["postal_code"] == "[masked]"
    assert apply_visibility("support", INTERACTION)[0]["note"] == INTERACTION["note"]
    # Orders are not support's business: amount and comment are hidden.
    assert apply_visibility("support", ORDER)[0] == {"id": "o-1", "customer_id": "c-1"}


def test_analyst_sees_no_identifying_fields() -> None:
    shown, levels = apply_visibility("analyst", CUSTOMER)
    assert shown == {
        "id": "c-1",
        "date_of_birth": "1990-**-**",
        "country": "CN",
        "language": "zh",
        "marketing": {"email": True},
        "created_at": CUSTOMER["created_at"],
        "updated_at": CUSTOMER["updated_at"],
    }
    assert levels["full_name"] == levels["national_id"] == levels["address"] == "hidden"
    assert apply_visibility("analyst", ORDER)[0]["amount"] == Decimal("12.50")
    assert "comment" not in apply_visibility("analyst", ORDER)[0]


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_roles_without_customer_data_see_ids_only(role: str) -> None:
    shown, levels = apply_visibility(role, CUSTOMER)
    assert set(shown) == {"id", "created_at", "updated_at"}
    assert levels["email"] == "hidden"


def test_crm_app_sees_clear() -> None:
    assert apply_visibility("crm_app", CUSTOMER)[0] == CUSTOMER
    assert apply_visibility("crm_app", ORDER)[0] == ORDER


def test_most_permissive_role_wins_per_field() -> None:
    shown, levels = apply_visibility(["analyst", "dpo"], CUSTOMER)
    assert levels["full_name"] == "masked"  # analyst hidden, dpo masked
    assert levels["country"] == "clear"
    shown, levels = apply_visibility(["dpo", "support"], INTERACTION)
    assert shown["note"] == INTERACTION["note"]  # dpo masked, support clear
    shown, levels = apply_visibility(["support", "dpo"], CUSTOMER, reveal=True)
    assert levels["email"] == "clear"  # dpo's reveal right applies to the union


def test_unknown_roles_see_nothing() -> None:
    shown, levels = apply_visibility("intern", CUSTOMER)
    assert shown == {}
    assert set(levels.values()) == {"hidden"} and set(levels) == set(CUSTOMER)
    assert apply_visibility([], CUSTOMER)[0] == {}
    # An unknown role next to a known one adds nothing.
    assert apply_visibility(["intern", "analyst"], CUSTOMER) == apply_visibility(
        "analyst", CUSTOMER
    )


def test_unlisted_fields_are_hidden_and_none_stays_none() -> None:
    record = {"id": "c-2", "email": None, "favourite_colour": "blue"}
    shown, levels = apply_visibility("dpo", record)
    assert shown == {"id": "c-2", "email": None}
    assert levels == {"id": "clear", "email": "masked", "favourite_colour": "hidden"}


def test_mfa_roles_come_from_the_policy_file() -> None:
    assert people_mfa_roles() == {"admin", "dpo", "support", "analyst", "auditor"}
    assert default_visibility().roles["crm_app"].kind == "service"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "visibility.yaml"
    path.write_text("version: 1\nmasks: {email: email}\n" + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("roles: {}\n", "roles:"),
        ("roles: {x: {kind: robot, mfa_required: true}}\n", "roles.x.kind"),
        ("roles: {x: {kind: person, mfa_required: maybe}}\n", "roles.x.mfa_required"),
        ("roles: {x: {kind: person, mfa_required: true, fields: {email: visible}}}\n",
         "roles.x.fields.email"),
        ("roles: {x: {kind: person, mfa_required: true, fields: {phone: clear}}}\n",
         "roles.x.fields.phone"),
        ("roles: {x: {kind: person, mfa_required: true, fields: {email: clear},"
         " reveal: [email]}}\n", "roles.x.reveal.email"),
        ("roles: {X-1: {kind: person, mfa_required: true}}\n", "roles.X-1"),
    ],
)  # fmt: skip
def test_malformed_visibility_files_name_the_entry(tmp_path: Path, body: str, where: str) -> None:
    with pytest.raises(VisibilityPolicyError) as caught:
        load_visibility(_write(tmp_path, body))
    assert str(caught.value).startswith(where)


def test_unknown_mask_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "visibility.yaml"
    path.write_text("version: 1\nmasks: {email: scramble}\nroles: {}\n", encoding="utf-8")
    with pytest.raises(VisibilityPolicyError, match="masks.email"):
        load_visibility(path)


def test_custom_policy_can_be_passed(tmp_path: Path) -> None:
    policy = load_visibility(
        _write(tmp_path, "roles: {x: {kind: person, mfa_required: false, fields: {email: masked}}}")
    )
    shown, _ = apply_visibility("x", {"email": "alice@example.com"}, policy=policy)
    assert shown == {"email": "a***@example.com"}
