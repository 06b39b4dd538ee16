"""Console pages: dashboard, health, customers, jobs, reports and the areas later issues fill."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template, request
from sqlalchemy import Connection, func, select, text

from governance.api.reports import pdf_response
from governance.console import bp
from governance.database import read_connection
from governance.extensions import db
from governance.models import Customer, Interaction, Job, Order
from governance.services import customers as customer_service
from governance.services import inventory, jobs
from governance.services.auditlog import tree_size
from governance.web import current_call


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


@bp.get("/")
def index() -> Any:
    session = db.session
    figures = {
        "customers": session.scalar(select(func.count()).select_from(Customer)) or 0,
        "orders": session.scalar(select(func.count()).select_from(Order)) or 0,
        "interactions": session.scalar(select(func.count()).select_from(Interaction)) or 0,
        "audit entries": tree_size(session),
        "running jobs": session.scalar(
            select(func.count()).select_from(Job).where(Job.state.in_(("queued", "running")))
        )
        or 0,
    }
    from governance.services.pii_review import undeclared_confirmed
    from governance.services.service_accounts import grant_refusals

    return render_template(
        "dashboard.html",
        figures=figures,
        jobs=jobs.recent(session, 5),
        pii_undeclared=undeclared_confirmed(current_call()),
        grant_refusals=grant_refusals(current_call()),  # separation of duties (identity)
    )


@bp.get("/customers", endpoint="customers")
def customers_page() -> Any:
    filters = {
        k: v
        for k, v in request.args.items()
        if k in ("email", "phone", "national_id", "country") and v
    }
    page = customer_service.list_customers(
        current_call(), filters, cursor=request.args.get("cursor") or None, limit=25
    )
    db.session.commit()
    return render_template("customers.html", page=page, filters=filters)


@bp.route("/customers/<customer_id>", methods=["GET", "POST"])
def customer(customer_id: str) -> Any:
    """A customer, masked; a DPO may reveal it in clear by giving a reason (audited)."""
    from governance.console.forms import RevealForm
    from governance.security.masking import default_visibility
    from governance.services import records

    call = current_call()
    form = RevealForm()
    reason = form.reason.data.strip() if form.validate_on_submit() else None
    doc = customer_service.get_customer(call, customer_id, reveal_reason=reason)
    orders = records.list_orders(call, customer_id)["items"]
    interactions = records.list_interactions(call, customer_id)["items"]
    db.session.commit()
    can_reveal = default_visibility().can_reveal(call.actor.roles)
    return render_template(
        "customer.html",
        c=doc,
        orders=orders,
        interactions=interactions,
        form=form,
        can_reveal=can_reveal,
        revealed=reason is not None,
    )


@bp.get("/jobs", endpoint="jobs")
def jobs_page() -> Any:
    return render_template(
        "jobs.html", jobs=[jobs.describe(j) for j in jobs.recent(db.session, 100)]
    )


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> Any:
    job = jobs.describe(jobs.get(db.session, job_id))
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
