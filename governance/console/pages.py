"""Console pages: dashboard, health, customers, jobs, reports and the areas later issues fill."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, request
from sqlalchemy import Connection, func, select, text

from governance.api.jobs import describe
from governance.api.reports import pdf_response
from governance.console import bp
from governance.context import Purpose, purposes
from governance.database import read_connection
from governance.extensions import db
from governance.models import Customer, Interaction, Job, Order
from governance.services.auditlog.append import tree_size
from governance.services.customers import reads
from governance.services.evidence import inventory
from governance.services.jobs import queue as jobs
from governance.web.edge import count_customer_lookup, current_call


def _migrations_current(conn: Connection) -> tuple[bool, str | None, str | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    migrate: Migrate = current_app.extensions["migrate"].migrate
    script = ScriptDirectory.from_config(migrate.get_config())
    head = script.get_current_head()
    current = MigrationContext.configure(conn).get_current_revision()
    return current == head, current, head


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness plus database reachability and migration state (no personal data)."""
    checks: dict[str, Any] = {}
    try:
        with read_connection(db.engine) as conn:  # never queues behind SQLite's writer lock
            conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            ok, current, head = _migrations_current(conn)
        checks["migrations"] = "current" if ok else f"behind ({current} != {head})"
    except Exception as exc:  # health reports failure, never raises
        checks["database"] = f"unreachable ({type(exc).__name__})"
        ok = False
    healthy = checks.get("database") == "ok" and ok
    return jsonify({"status": "ok" if healthy else "degraded", "checks": checks}), (
        200 if healthy else 503
    )


@bp.get("/readyz")
def readyz() -> Any:
    """Ready to serve: healthy and keys loaded."""
    response, status = healthz()
    ready = status == 200 and "governance" in current_app.extensions
    return jsonify({"ready": ready}), 200 if ready else 503


# Each dashboard figure and the pages (endpoints) it summarises: a role sees a figure only if it
# may open one of them, so the dashboard tells nobody more than their own pages would.
DASHBOARD = {
    "customers": ("console.customers", "console.report_data_inventory"),
    "orders": ("api.list_orders", "console.report_data_inventory"),
    "interactions": ("api.list_interactions", "console.report_data_inventory"),
    "audit entries": ("console.audit",),
    "running jobs": ("console.jobs",),
}


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@bp.get("/")
def index() -> Any:
    from governance.console.visible import may_get
    from governance.services.identity.service_accounts import grant_refusals
    from governance.services.pii.review import undeclared_confirmed

    call = current_call()
    roles = call.actor.roles
    counts = {
        "customers": lambda: _count(Customer),
        "orders": lambda: _count(Order),
        "interactions": lambda: _count(Interaction),
        "audit entries": lambda: tree_size(db.session),
        "running jobs": lambda: _count(Job, Job.state.in_(("queued", "running"))),
    }
    figures = {k: count() for k, count in counts.items() if may_get(roles, *DASHBOARD[k])}
    return render_template(
        "dashboard.html",
        figures=figures,
        jobs=jobs.recent(db.session, 5, call.actor) if may_get(roles, "console.jobs") else None,
        # An alert every role sees (issue 6): a count of places, no customer data.
        pii_undeclared=undeclared_confirmed(call),
        # Separation of duties: refused grants, for those who administer or audit access.
        grant_refusals=(
            grant_refusals(call) if may_get(roles, "console.users", "console.audit") else 0
        ),
    )


def _render_then_commit(template: str, **context: Any) -> str:
    """Render a page, then commit the audit entries of the reads it shows.

    A page that fails to render raises before the commit, and the error handler rolls the reads
    back with it: the log never says a customer was shown to someone who got an error page.
    """
    html = render_template(template, **context)
    db.session.commit()
    return html


@bp.get("/customers", endpoint="customers")
def customers_page() -> Any:
    filters = {
        k: v
        for k, v in request.args.items()
        if k in ("email", "phone", "national_id", "country") and v
    }
    count_customer_lookup(filters)  # the same lookup limit as the API's filters
    purpose = _purpose()
    page = reads.list_customers(
        current_call(purpose), filters, cursor=request.args.get("cursor") or None, limit=25
    )
    return _render_then_commit(
        "customers.html",
        page=page,
        filters=filters,
        purpose=purpose,
        purposes=_choices(),
        chosen=None if purpose.name == CONSOLE_PURPOSE else purpose.name,  # links carry a choice
    )


CONSOLE_PURPOSE = "support"


def _purpose() -> Purpose:
    """The purpose chosen on a customer page (``?purpose=``, default ``support``); 422 when it
    is not a caller's purpose in ``policies/purposes.yaml``."""
    return Purpose.named(request.args.get("purpose") or CONSOLE_PURPOSE, field="purpose")


def _choices() -> list[str]:
    return [name for name, system in purposes().items() if not system]


@bp.route("/customers/<customer_id>", methods=["GET", "POST"])
def customer(customer_id: str) -> Any:
    """A customer, masked; a DPO may reveal it in clear by giving a reason (audited).

    Orders and interactions are listed only to roles the policy lets read them through the API,
    and only in the columns their visibility shows: the page shows what the API would answer.
    """
    from governance.console.forms import RevealForm
    from governance.console.visible import record_sections
    from governance.security.masking import default_visibility

    purpose = _purpose()
    call = current_call(purpose)
    form = RevealForm()
    reason = form.reason.data.strip() if form.validate_on_submit() else None
    doc = reads.read_customer(call, customer_id, reveal_reason=reason)
    return _render_then_commit(
        "customer.html",
        purpose=purpose,
        c=doc,
        sections=record_sections(call, customer_id),
        form=form,
        can_reveal=default_visibility().can_reveal(call.actor.roles),
        revealed=reason is not None,
    )


@bp.get("/jobs", endpoint="jobs")
def jobs_page() -> Any:
    return render_template(
        "jobs.html",
        jobs=[describe(j) for j in jobs.recent(db.session, 100, current_call().actor)],
    )


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> Any:
    job = describe(jobs.get(db.session, job_id, current_call().actor))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(job)
    return render_template("job.html", job=job)


@bp.get("/reports", endpoint="reports")
def reports_page() -> Any:
    return render_template("reports.html")


@bp.get("/reports/data-inventory")
def report_data_inventory() -> Any:
    pdf = inventory.data_inventory_pdf(current_call(), current_app.config["DATABASE_URL"])
    db.session.commit()
    return pdf_response(pdf, "data-inventory.pdf")


def _later(area: str, issue: str) -> Any:
    return render_template("later.html", area=area, issue=issue)


@bp.get("/consent")
def consent() -> Any:
    return _later("Consent", "consent and purpose tracking")


@bp.get("/retention")
def retention() -> Any:
    return _later("Retention", "retention rules and sweeps")


@bp.get("/backups")
def backups() -> Any:
    return _later("Backups", "backup verification")


@bp.get("/incidents")
def incidents() -> Any:
    return _later("Incidents", "breach-response workflows")
