"""PDF reports."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from governance.api import bp
from governance.extensions import db
from governance.services import inventory
from governance.web import current_call


def pdf_response(pdf: bytes, name: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/reports/data-inventory")
def data_inventory_report() -> Any:
    pdf = inventory.data_inventory_pdf(current_call(), current_app.config["DATABASE_URL"])
    db.session.commit()
    return pdf_response(pdf, "data-inventory.pdf")


@bp.get("/reports/audit-trail")
def audit_trail_report() -> Any:
    from governance.services import audit_views

    call = current_call()
    # empty fields (a console form left blank) mean the default period
    start, end = audit_views.period({k: v for k, v in request.args.items() if v}, call.now())
    db.session.commit()  # the report verifies the whole log: hold no write lock meanwhile
    pdf = audit_views.audit_trail_pdf(call, start, end)
    db.session.commit()
    return pdf_response(pdf, "audit-trail.pdf")
