"""PDF reports. Over a large log the audit-trail report is a job: 202, then the PDF when built."""

from __future__ import annotations

from typing import Any

from flask import current_app

from governance.api import bp
from governance.services.evidence import inventory
from governance.web.edge import current_call
from governance.web.responses import audit_trail_response, pdf_response


@bp.get("/reports/data-inventory")
def data_inventory_report() -> Any:
    pdf = inventory.data_inventory_pdf(current_call(), current_app.config["DATABASE_URL"])
    return pdf_response(pdf, "data-inventory.pdf")


@bp.get("/reports/audit-trail")
def audit_trail_report() -> Any:
    """The PDF for a period; over a large log a 202 with the report job, whose ``Location``
    (this route with ``?job=ID``) answers 202 until the PDF is ready, then the PDF."""
    return audit_trail_response()
