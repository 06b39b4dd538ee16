"""Customers, their orders and interactions."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from governance.api import bp, created, json_body, page_size, purpose, require_recent_password
from governance.database import release_deleted_pages
from governance.errors import ValidationError
from governance.extensions import db
from governance.services import customers, records
from governance.services.listing import FILTERS
from governance.web import current_call

PAGING = ("cursor", "limit", "purpose", "reveal")


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
def list_customers() -> Any:
    filters = {k: v for k, v in request.args.items() if k not in PAGING}
    unknown = [k for k in filters if k not in FILTERS]
    if unknown:
        raise ValidationError(
            "unknown parameter", [{"field": k, "message": "is not a filter"} for k in unknown]
        )
    page = customers.list_customers(
        current_call(),
        filters,
        cursor=request.args.get("cursor"),
        limit=page_size(),
        purpose=purpose(),
    )
    db.session.commit()
    return jsonify(page)


@bp.post("/customers")
def create_customer() -> Any:
    doc = customers.create_customer(current_call(), json_body())
    db.session.commit()
    response = created(doc)
    response.headers["Location"] = f"/api/v1/customers/{doc['id']}"
    return response


@bp.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> Any:
    reason = _reveal_reason()
    doc = customers.get_customer(
        current_call(), customer_id, purpose=purpose(), reveal_reason=reason
    )
    db.session.commit()
    return jsonify(doc)


@bp.patch("/customers/<customer_id>")
def update_customer(customer_id: str) -> Any:
    doc = customers.update_customer(current_call(), customer_id, json_body())
    db.session.commit()
    return jsonify(doc)


@bp.delete("/customers/<customer_id>")
def delete_customer(customer_id: str) -> Any:
    require_recent_password()
    result = customers.erase_customer(current_call(), customer_id, request.args.get("request_ref"))
    db.session.commit()
    release_deleted_pages(db.engine)
    return jsonify(result)


@bp.get("/customers/<customer_id>/orders")
def list_orders(customer_id: str) -> Any:
    result = records.list_orders(current_call(), customer_id, purpose())
    db.session.commit()
    return jsonify(result)


@bp.post("/customers/<customer_id>/orders")
def add_order(customer_id: str) -> Any:
    doc = records.add_order(current_call(), customer_id, json_body())
    db.session.commit()
    return created(doc)


@bp.get("/customers/<customer_id>/interactions")
def list_interactions(customer_id: str) -> Any:
    result = records.list_interactions(current_call(), customer_id, purpose())
    db.session.commit()
    return jsonify(result)


@bp.post("/customers/<customer_id>/interactions")
def add_interaction(customer_id: str) -> Any:
    doc = records.add_interaction(current_call(), customer_id, json_body())
    db.session.commit()
    return created(doc)
