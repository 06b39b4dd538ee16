"""Customers, their orders and interactions.

Every view is wrapped by ``audited``: a refused or failed call (404, 409, 422, 429, ...) is
audited with the names of the fields or filters it tried, in its own transaction, before the
error is answered. Lookups by blind index a masked role drives count against the lookup limit
(``services/customers/disclosure.py``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from flask import jsonify, request

from governance.api import bp, created, json_body, page_size, read_call, require_recent_password
from governance.database import release_deleted_pages
from governance.errors import GovernanceError, ValidationError
from governance.extensions import db
from governance.services.customers import disclosure, reads, records
from governance.services.customers import store as customers
from governance.services.customers.listing import FILTERS
from governance.services.customers.merge_patch import attempted_fields
from governance.web.edge import count_customer_lookup, current_call
from governance.web.transaction import after_commit

PAGING = ("cursor", "limit", "reveal")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
RECORD_FIELDS = {
    "orders": records.ORDER_FIELDS,
    "interactions": records.INTERACTION_FIELDS,
}


def audited(action: str, resource: str = "customers") -> Callable[[Any], Any]:
    """Audit the view's refusals and failures (GovernanceError) as ``action``, then re-raise."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except GovernanceError as exc:
                disclosure.record_refusal(
                    current_call(request.environ.get("governance.purpose")),
                    action,
                    exc,
                    subject_id=kwargs.get("customer_id"),
                    resource=resource,
                    details={**_attempted(resource), **_declared()},
                )
                raise

        return run

    return wrap


def _declared() -> dict[str, Any]:
    """The purpose a refused call declared when it is not a known one (its name only when it
    looks like a purpose name: a header may hold anything)."""
    sent = request.environ.get("governance.declared_purpose")
    if sent is None or request.environ.get("governance.purpose") is not None:
        return {}
    return {"declared_purpose": sent if _NAME.fullmatch(sent) else "(malformed)"}


def _attempted(resource: str) -> dict[str, Any]:
    """Field names of the body, or filter names of the query: names, never values."""
    if request.method in ("GET", "DELETE"):
        names = [k for k in request.args if k in FILTERS]
        unknown = [k for k in request.args if k not in FILTERS and k not in PAGING]
        return {"filters": sorted(names), "unknown_parameters": len(unknown)}
    try:
        data = json_body()  # the one parser: a body too deep or not JSON names no field
    except GovernanceError:
        data = None
    return attempted_fields(data, RECORD_FIELDS.get(resource, customers.FIELDS))


def _reveal_reason() -> str | None:
    if request.args.get("reveal", "false").lower() not in ("true", "1"):
        return None
    reason = request.headers.get("X-Reveal-Reason", "").strip()[:200]
    if not reason:
        raise ValidationError(
            "a reason is required to reveal data in clear",
            [{"field": "X-Reveal-Reason", "message": "is required with reveal=true"}],
        )
    return reason


@bp.get("/customers")
@audited("customer.list")
def list_customers() -> Any:
    call = read_call()
    filters = {k: v for k, v in request.args.items() if k not in PAGING}
    count_customer_lookup(filters)
    unknown = [k for k in filters if k not in FILTERS]
    if unknown:
        raise ValidationError(
            "unknown parameter", [{"field": k, "message": "is not a filter"} for k in unknown]
        )
    page = reads.list_customers(call, filters, cursor=request.args.get("cursor"), limit=page_size())
    return jsonify(page)


@bp.post("/customers")
@audited("customer.create")
def create_customer() -> Any:
    data = json_body()
    count_customer_lookup(data if isinstance(data, dict) else ())
    doc = customers.create_customer(current_call(), data)
    response = created(doc)
    response.headers["Location"] = f"/api/v1/customers/{doc['id']}"
    return response


@bp.get("/customers/<customer_id>")
@audited("customer.read")
def get_customer(customer_id: str) -> Any:
    call = read_call()
    reason = _reveal_reason()
    doc = reads.read_customer(call, customer_id, reveal_reason=reason)
    return jsonify(doc)


@bp.patch("/customers/<customer_id>")
@audited("customer.update")
def update_customer(customer_id: str) -> Any:
    data = json_body()
    count_customer_lookup(data if isinstance(data, dict) else ())
    doc = customers.update_customer(current_call(), customer_id, data)
    return jsonify(doc)


@bp.delete("/customers/<customer_id>")
@audited("customer.erase")
def delete_customer(customer_id: str) -> Any:
    require_recent_password()
    result = customers.erase_customer(current_call(), customer_id, request.args.get("request_ref"))
    after_commit(lambda: release_deleted_pages(db.engine))  # once the erasure is committed
    return jsonify(result)


@bp.get("/customers/<customer_id>/orders")
@audited("order.list", "orders")
def list_orders(customer_id: str) -> Any:
    result = records.list_orders(read_call(), customer_id)
    return jsonify(result)


@bp.post("/customers/<customer_id>/orders")
@audited("order.create", "orders")
def add_order(customer_id: str) -> Any:
    doc = records.add_order(current_call(), customer_id, json_body())
    return created(doc)


@bp.get("/customers/<customer_id>/interactions")
@audited("interaction.list", "interactions")
def list_interactions(customer_id: str) -> Any:
    result = records.list_interactions(read_call(), customer_id)
    return jsonify(result)


@bp.post("/customers/<customer_id>/interactions")
@audited("interaction.create", "interactions")
def add_interaction(customer_id: str) -> Any:
    doc = records.add_interaction(current_call(), customer_id, json_body())
    return created(doc)
