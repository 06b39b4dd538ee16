"""Console: retention rules, the plan (dry run), sweeps (jobs) and legal holds; the report."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from governance.console import bp
from governance.errors import GovernanceError
from governance.services.auditlog import views as audit_views
from governance.services.retention import holds, sweep
from governance.services.retention import rules as retention_rules
from governance.services.retention.report import retention_pdf
from governance.web.edge import current_call
from governance.web.responses import pdf_response


def _page(with_plan: bool) -> Any:
    call = current_call()
    return render_template(
        "retention.html",
        rules=retention_rules.current().rules,
        runs=sweep.runs(call, 10),
        holds=holds.list_holds(call),
        categories=retention_rules.CATEGORIES,
        plan=sweep.plan(call) if with_plan else None,
    )


@bp.get("/retention", endpoint="retention")
def retention_page() -> Any:
    return _page(False)


@bp.get("/retention/plan", endpoint="retention_plan")
def retention_plan_page() -> Any:
    return _page(True)


@bp.post("/retention/runs", endpoint="retention_run")
def retention_run() -> Any:
    job = sweep.start(current_call())
    flash(_("Retention sweep started."), "ok")
    return redirect(url_for("console.job_page", job_id=job.id))


@bp.post("/retention/holds", endpoint="retention_hold")
def retention_hold() -> Any:
    form = {k: v.strip() for k, v in request.form.items() if k != "csrf_token" and v.strip()}
    try:
        holds.place(current_call(), form)
    except GovernanceError as exc:
        fields = "; ".join(f"{e['field']} {e['message']}" for e in exc.errors)
        flash(_("Hold not placed: %(why)s", why=exc.detail + (f" ({fields})" if fields else "")),
              "error")  # fmt: skip
    else:
        flash(_("Legal hold placed."), "ok")
    return redirect(url_for("console.retention"))


@bp.post("/retention/holds/<hold_id>/release", endpoint="retention_release")
def retention_release(hold_id: str) -> Any:
    holds.release(current_call(), hold_id)
    flash(_("Legal hold released."), "ok")
    return redirect(url_for("console.retention"))


@bp.get("/reports/retention", endpoint="report_retention")
def report_retention() -> Any:
    call = current_call()
    start, end = audit_views.period(dict(request.args), call.now())
    return pdf_response(retention_pdf(call, start, end), "retention.pdf")
