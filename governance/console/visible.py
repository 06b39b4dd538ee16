"""What a console page shows to the signed-in roles: no more than their policy lets them read.

The customer page lists orders and interactions the way the API would answer the same person:
a section is read (and its read audited) only when the Casbin policy lets one of the caller's
roles ``GET`` the matching API route, and its columns are the fields ``visibility.yaml`` does not
hide from those roles. So a support agent, whom the policy refuses
``GET /api/v1/customers/:id/orders``, sees no orders at all, and an order field hidden from a
role is not a column of its page. The dashboard shows a figure only to roles that may open a
page it summarises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from governance.context import Call
from governance.security.masking import HIDDEN, default_visibility
from governance.services.customers import records

Lister = Callable[[Call, str], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    """One kind of customer record on the page: the API endpoint whose rule decides whether the
    role may read it, the service that reads it, and its columns (field, label)."""

    name: str
    title: str
    api_endpoint: str
    read: Lister
    columns: tuple[tuple[str, str], ...]


SECTIONS = (
    Section(
        "orders",
        _l("Orders"),
        "api.list_orders",
        records.list_orders,
        (
            ("ordered_at", _l("Date")),
            ("amount", _l("Amount")),
            ("currency", _l("Currency")),
            ("items", _l("Items")),
            ("comment", _l("Comment")),
        ),
    ),
    Section(
        "interactions",
        _l("Interactions"),
        "api.list_interactions",
        records.list_interactions,
        (("occurred_at", _l("When")), ("channel", _l("Channel")), ("note", _l("Note"))),
    ),
)
# How much of an ISO 8601 timestamp a column shows (a date, or a date and minutes).
TIMESTAMP_WIDTH = {"ordered_at": 10, "occurred_at": 16}


def record_sections(call: Call, customer_id: str) -> list[dict[str, Any]]:
    """The sections the caller may read, each with its visible columns and formatted rows."""
    roles = list(call.actor.roles)
    out = []
    for section in SECTIONS:
        if not may_get(roles, section.api_endpoint):
            continue
        columns = visible_columns(roles, section.columns)
        items = section.read(call, customer_id)["items"]
        out.append(
            {
                "name": section.name,
                "title": section.title,
                "labels": [label for _, label in columns] or [_l("Recorded")],
                "rows": [_row(item, columns) for item in items],
            }
        )
    return out


def may_get(roles: Iterable[str], *endpoints: str) -> bool:
    """True if the policy lets one of ``roles`` GET the route of one of ``endpoints``."""
    return any(may(roles, e, "GET") for e in endpoints)


def may(roles: Iterable[str], endpoint: str, method: str) -> bool:
    """True if the policy lets one of ``roles`` call ``endpoint``'s route with ``method``."""
    from governance.web.edge import rule_pattern
    from governance.web.guard import authorizer

    rules = {r.endpoint: r.rule for r in current_app.url_map.iter_rules()}
    return authorizer().allowed(frozenset(roles), rule_pattern(rules[endpoint]), method)


def visible_columns(
    roles: list[str], columns: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]]:
    """The columns whose field the roles see in clear or masked (hidden ones are left out)."""
    policy = default_visibility()
    return [(field, label) for field, label in columns if policy.level(roles, field) != HIDDEN]


def _row(item: dict[str, Any], columns: list[tuple[str, str]]) -> list[str]:
    if not columns:  # every field hidden: the record's existence is all the role may see
        return [str(item.get("created_at", ""))[:10]]
    return [_cell(field, item.get(field)) for field, _ in columns]


def _cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field in TIMESTAMP_WIDTH and isinstance(value, str):
        return value[: TIMESTAMP_WIDTH[field]].replace("T", " ")
    if isinstance(value, list):
        return "; ".join(_item(part) for part in value)
    return str(value)


def _item(part: Any) -> str:
    """An order line (``{"sku": "SKU-1234", "quantity": 2}`` or plain text) as one line."""
    if isinstance(part, dict):
        return ", ".join(f"{key}: {value}" for key, value in part.items())
    return str(part)
