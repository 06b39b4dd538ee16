"""Customer list filters: exact matches through blind indexes, never by decrypting rows.

A filter is a condition with a bound parameter (``filter_conditions``, built once per set of
filter names) and a value normalised per request (``filter_values``): a list's statement is
then the same object for every request of its shape, and SQLAlchemy's compiled-statement
cache finds it without rebuilding or re-hashing the expression tree.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Customer
from governance.services.customers import normalise as norm

FILTERS = ("email", "phone", "national_id", "country", "external_ref", "updated_since")

_TABLE = Customer.__table__.c
# Each filter: the column it compares and how (encrypted columns through their blind index).
_COMPARE: dict[str, tuple[Any, Callable[[Any, Any], ColumnElement[bool]]]] = {
    "email": (_TABLE.email_bidx, operator.eq),
    "phone": (_TABLE.phone_bidx, operator.eq),
    "national_id": (_TABLE.national_id_bidx, operator.eq),
    "country": (_TABLE.country, operator.eq),
    "external_ref": (_TABLE.external_ref_bidx, operator.eq),
    "updated_since": (_TABLE.updated_at, operator.ge),
}


def param(name: str) -> str:
    """The bound parameter a filter's value is passed in."""
    return f"filter_{name}"


@functools.cache
def filter_conditions(names: tuple[str, ...]) -> tuple[ColumnElement[bool], ...]:
    """The WHERE conditions of the filters ``names`` (known ones), values left to bind."""
    conditions = []
    for name in names:
        column, compare = _COMPARE[name]
        conditions.append(compare(column, bindparam(param(name), type_=column.type)))
    return tuple(conditions)


def filter_values(call: Call, filters: Mapping[str, str]) -> dict[str, Any]:
    """The value each filter compares, by filter name (blind index or normalised clear
    value); ValidationError on unknown, empty or bad filters."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ValidationError(
            "unknown filter", [{"field": name, "message": "is not a filter"} for name in unknown]
        )
    region = call.settings.get("DEFAULT_REGION", "CN")
    bidx = call.vault.blind_index
    normalise: dict[str, Callable[[str], Any]] = {
        "email": lambda v: bidx("email", norm.normalise_email(v)),
        "phone": lambda v: bidx("phone", norm.normalise_phone(v, region)),
        "national_id": lambda v: bidx("national_id", norm.normalise_national_id(v, None)),
        "country": norm.normalise_country,
        "external_ref": lambda v: bidx("external_ref", norm.clean_text(v, max_length=128)),
        "updated_since": norm.parse_timestamp,
    }
    values: dict[str, Any] = {}
    errors = []
    for name, value in filters.items():
        if not value.strip():  # one answer for every empty filter (was: 422, IS NULL, or none)
            errors.append({"field": name, "message": "must not be empty"})
            continue
        try:
            values[name] = normalise[name](value)
        except norm.FieldError as exc:
            errors.append({"field": name, "message": str(exc)})
    if errors:
        raise ValidationError("invalid filter", errors)
    return values
