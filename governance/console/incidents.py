"""Incident pages: the list, one incident (facts, workflow, tasks with countdowns, analysis,
containment with confirmation, documents, timeline), and the breach register download.

Views parse the form, call one service, and come back to the page with what happened; a refusal
(422, 409, 404) is shown above the page with its field messages and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from governance.console import bp
from governance.errors import GovernanceError, InternalError
from governance.services.breach import analysis, containment, documents, incidents, rules, tasks
from governance.services.breach import tile as _tile  # noqa: F401  (registers the dashboard tile)
from governance.web.edge import current_call
from governance.web.reauth import require_recent_auth
from governance.web.responses import pdf_response
from governance.web.transaction import rollback


def _can_edit() -> bool:
    """May the signed-in roles change incidents (the DPO), or only read them (the auditor)?"""
    from governance.console.visible import may

    return may(current_call().actor.roles, "console.incident", "POST")


def _refused(exc: GovernanceError) -> None:
    rollback()
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    flash(f"{exc.detail}" + (f" ({fields})" if fields else ""), "error")


def _attempt(incident_id: str, action: Callable[[], str | BaseResponse]) -> Any:
    """Run a form's action; back to the incident with its message, or with the refusal."""
    try:
        outcome = action()
    except InternalError:
        raise
    except GovernanceError as exc:
        _refused(exc)
        return redirect(url_for("console.incident", incident_id=incident_id))
    if isinstance(outcome, BaseResponse):
        return outcome
    flash(outcome, "ok")
    return redirect(url_for("console.incident", incident_id=incident_id))


@bp.route("/incidents", methods=["GET", "POST"], endpoint="incidents")
def incidents_page() -> Any:
    """Every incident, newest first; (DPO) record a new one."""
    call = current_call()
    if request.method == "POST":
        ids = [v.strip() for v in request.form.get("customer_ids", "").split() if v.strip()]
        data = {
            k: request.form.get(k, "") for k in ("title", "description", "detected_at", "aware_at")
        }
        try:
            made = incidents.create(call, {**data, **({"customer_ids": ids} if ids else {})})
        except InternalError:
            raise
        except GovernanceError as exc:
            _refused(exc)
            return redirect(url_for("console.incidents"))
        flash(_("Incident recorded: the clocks run from the time the company became aware."), "ok")
        return redirect(url_for("console.incident", incident_id=made.id))
    listed = incidents.listing(call)
    summary = tasks.summaries(call, listed)
    rows = [{"incident": incident, **summary[incident.id]} for incident in listed]
    return render_template("incidents.html", rows=rows, can_edit=_can_edit())


@bp.route("/incidents/<incident_id>", methods=["GET", "POST"], endpoint="incident")
def incident_page(incident_id: str) -> Any:
    """One incident; POST ``op=update`` changes its facts, ``op=transition`` moves it on."""
    call = current_call()
    incident = incidents.get(call, incident_id)
    if request.method == "POST":
        form = request.form
        if form.get("op") == "transition":
            return _attempt(incident_id, lambda: _move(call, incident, form))
        return _attempt(incident_id, lambda: _update(call, incident, form))
    applicable = [r for r in rules.current().regimes if r in tasks.regime_counts(call, incident)]
    authority = [r for r in applicable if rules.current().rule(r, "authority")]
    return render_template(
        "incident.html",
        incident=incidents.describe(call, incident, full=True),
        tasks=tasks.detail(call, incident),
        authority_regimes=authority,
        risks=rules.RISKS,
        actions=containment.ACTIONS,
        categories=analysis.sensitive_fields(),
        can_edit=_can_edit(),
    )


def _move(call: Any, incident: Any, form: Any) -> str:
    incidents.transition(call, incident, form.get("to"), form.get("note", ""))
    return _("Incident moved to %(state)s.", state=incident.state)


def _update(call: Any, incident: Any, form: Any) -> str:
    data: dict[str, Any] = {name: form.get(name, "") for name in incidents.TEXT_FIELDS}
    data["title"] = form.get("title", "")
    for name in incidents.FLAGS:
        data[name] = form.get(name) == "on"
    for name in incidents.LISTS:
        data[name] = [v.strip() for v in form.get(name, "").split(",") if v.strip()]
    data["risk"] = form.get("risk") or None
    records = form.get("approx_records", "").strip()
    data["approx_records"] = int(records) if records.isdigit() else None
    incidents.update(call, incident, data)
    return _("Incident updated.")


@bp.post("/incidents/<incident_id>/tasks", endpoint="incident_task")
def complete_task(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    form = request.form
    body = {k: form.get(k, "") for k in ("completed_at", "channel", "reference", "late_reasons")}

    def done() -> str:
        tasks.complete(call, incident, form.get("regime", ""), form.get("target", ""), body)
        return _("Notification recorded as done.")

    return _attempt(incident_id, done)


@bp.post("/incidents/<incident_id>/analyses", endpoint="incident_analysis")
def analyse(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    form = request.form
    kind = form.get("scope")
    scope: dict[str, Any]
    if kind == "customer_ids":
        scope = {"customer_ids": form.get("customer_ids", "").split()}
    elif kind == "query":
        scope = {"query": {k: form.get(k) for k in analysis.QUERY_KEYS if form.get(k)}}
    else:
        scope = {
            "actor": {
                "type": form.get("actor_type"),
                "id": form.get("actor_id", ""),
                "from": form.get("from"),
                "to": form.get("to") or None,
            }
        }

    def submit() -> BaseResponse:
        job = analysis.submit(call, incident, scope)
        return redirect(url_for("console.job_page", job_id=job.id))

    return _attempt(incident_id, submit)


@bp.post("/incidents/<incident_id>/containment", endpoint="incident_containment")
def contain(incident_id: str) -> Any:
    require_recent_auth()  # revoking, disabling and rotating are sensitive actions
    call = current_call()
    incident = incidents.get(call, incident_id)
    action, target = request.form.get("action"), request.form.get("target") or None

    def act() -> str:
        done = containment.act(call, incident, action, target)
        return _("Containment done: %(action)s.", action=str(done["action"]).replace("_", " "))

    return _attempt(incident_id, act)


@bp.get("/incidents/<incident_id>/documents/<doc>", endpoint="incident_document")
def document(incident_id: str, doc: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)
    args = request.args

    def made() -> Response:
        if doc == "authority-notice":
            pdf = documents.authority_notice(call, incident, args.get("regime", ""))
        elif doc == "individual-notice":
            pdf = documents.individual_notice(
                call, incident, args.get("customer_id", "").strip(), args.get("language") or None
            )
        elif doc == "incident-report":
            pdf = documents.incident_report(call, incident)
        else:
            raise GovernanceError("unknown document")
        return pdf_response(pdf, f"{doc}.pdf", frozen_ok=True)

    return _attempt(incident_id, made)


@bp.post("/incidents/<incident_id>/notices", endpoint="incident_notices")
def notices(incident_id: str) -> Any:
    call = current_call()
    incident = incidents.get(call, incident_id)

    def submit() -> BaseResponse:
        job = documents.submit_notices(call, incident)
        return redirect(url_for("console.job_page", job_id=job.id))

    return _attempt(incident_id, submit)


@bp.get("/incidents/<incident_id>/notices/zip", endpoint="incident_notices_zip")
def notices_zip(incident_id: str) -> Any:
    """The generated notices as one ZIP (404 until they are generated); audited."""
    call = current_call()
    data = documents.notices_zip(call, incidents.get(call, incident_id))
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": 'attachment; filename="notices.zip"'},
    )


@bp.get("/reports/breach-register", endpoint="report_breach_register")
def breach_register() -> Any:
    """Every incident, notified or not (auditors too)."""
    return pdf_response(
        documents.breach_register(current_call()), "breach-register.pdf", frozen_ok=True
    )
