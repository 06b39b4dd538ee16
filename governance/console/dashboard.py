"""The console's start page: figures each role may see, recent jobs and alerts."""

from __future__ import annotations

from typing import Any

from flask import render_template

from governance.console import bp
from governance.extensions import db
from governance.services.evidence.dashboard import figures as dashboard_figures
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call

# Each dashboard figure and the pages (endpoints) it summarises: a role sees a figure only if it
# may open one of them, so the dashboard tells nobody more than their own pages would.
DASHBOARD = {
    "customers": ("console.customers", "console.report_data_inventory"),
    "orders": ("api.list_orders", "console.report_data_inventory"),
    "interactions": ("api.list_interactions", "console.report_data_inventory"),
    "audit entries": ("console.audit",),
    "running jobs": ("console.jobs",),
}


@bp.get("/")
def index() -> Any:
    from governance.console.visible import may_get
    from governance.services.identity.service_accounts import grant_refusals
    from governance.services.pii.review import undeclared_confirmed

    call = current_call()
    roles = call.actor.roles
    figures = dashboard_figures(
        call, [k for k, pages in DASHBOARD.items() if may_get(roles, *pages)]
    )
    return render_template(
        "dashboard.html",
        figures=figures,
        jobs=jobs.recent(db.session(), 5, call.actor) if may_get(roles, "console.jobs") else None,
        # An alert every role sees (issue 6): a count of places, no customer data.
        pii_undeclared=undeclared_confirmed(call),
        # Separation of duties: refused grants, for those who administer or audit access.
        grant_refusals=(
            grant_refusals(call) if may_get(roles, "console.users", "console.audit") else 0
        ),
    )
