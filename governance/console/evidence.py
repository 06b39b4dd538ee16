"""Report pages (evidence): the report list and the data-inventory PDF (the audit-trail and PII
discovery reports are served by ``console/auditlog.py`` and ``console/pii.py``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from governance.console import bp
from governance.services.evidence import inventory
from governance.web.edge import current_call
from governance.web.responses import pdf_response


@bp.get("/reports", endpoint="reports")
def reports_page() -> Any:
    from governance.console.visible import may_get

    roles = current_call().actor.roles
    return render_template(
        "reports.html",
        may_audit=may_get(roles, "console.audit_report"),
        may_pii=may_get(roles, "console.report_pii_discovery"),
        may_corner=may_get(roles, "console.auditor"),
        may_breach=may_get(roles, "console.report_breach_register"),
    )


@bp.get("/reports/data-inventory")
def report_data_inventory() -> Any:
    pdf = inventory.data_inventory_pdf(current_call(), current_app.config["DATABASE_URL"])
    return pdf_response(pdf, "data-inventory.pdf")
