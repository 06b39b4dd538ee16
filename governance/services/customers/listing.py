"""Customer list filters: exact matches through blind indexes, never by decrypting rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Customer
from governance.services.customers import normalise as norm

FILTERS = ("email", "phone", "national_id", "country", "external_ref", "updated_since")


def customer_query(call: Call, filters: dict[str, str]) -> Select[Any]:
    """A SELECT of customers matching ``filters``; ValidationError on unknown or bad filters."""
    return select(Customer).where(*customer_conditions(call, filters))


def customer_conditions(call: Call, filters: dict[str, str]) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``filters`` on the customers table; ValidationError on unknown
    or bad filters."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValidationError(
            "unknown filter", [{"field": name, "message": "is not a filter"} for name in unknown]
        )
    table = Customer.__table__.c
    region = call.settings.get("DEFAULT_REGION", "CN")
    bidx = call.vault.blind_index
    conditions = {
        "email": lambda v: table.email_bidx == bidx("email", norm.normalise_email(v)),
        "phone": lambda v: table.phone_bidx == bidx("phone", norm.normalise_phone(v, region)),
        "national_id": lambda v: (
            table.national_id_bidx == bidx("national_id", norm.normalise_national_id(v, None))
        ),
        "country": lambda v: table.country == norm.normalise_country(v),
        "external_ref": lambda v: (
            table.external_ref_bidx == bidx("external_ref", norm.clean_text(v, max_length=128))
        ),
        "updated_since": lambda v: table.updated_at >= norm.parse_timestamp(v),
    }
    where: list[ColumnElement[bool]] = []
    errors = []
    for name, value in filters.items():
        if not value.strip():  # one answer for every empty filter (was: 422, IS NULL, or none)
            errors.append({"field": name, "message": "must not be empty"})
            continue
        try:
            where.append(conditions[name](value))
        except norm.FieldError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise ValidationError("invalid filter", errors)
    return where
