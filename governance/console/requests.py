"""Console: the data-subject request queue (sorted by due date, clocks visible), a request's
detail with its history and actions, its export and its erasure certificate (JSON and PDF)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from governance.console import bp
from governance.errors import GovernanceError
from governance.models.requests import REQUEST_KINDS
from governance.services.requests import certificate, exports, tiles, workflow  # noqa: F401
from governance.services.requests import rules as request_rules
from governance.web.edge import current_call
from governance.web.reauth import require_recent_auth
from governance.web.responses import pdf_response

SUBJECT_KEYS = ("email", "phone", "national_id")


def _form_text(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


@bp.route("/requests", methods=["GET", "POST"], endpoint="requests")
def requests_page() -> Any:
    call = current_call()
    if request.method == "POST":
        key = request.form.get("subject_key", "email")
        data = {
            "kind": request.form.get("kind"),
            "subject": {key if key in SUBJECT_KEYS else "email": _form_text("subject") or ""},
        }
        for name in ("jurisdiction", "received_at", "owner", "reason", "purpose"):
            if _form_text(name):
                data[name] = _form_text(name)
        try:
            made = workflow.create(call, data)
        except GovernanceError as exc:
            flash(_("Request not recorded: %(why)s", why=_why(exc)), "error")
            return redirect(url_for("console.requests"))
        flash(_("Request recorded."), "ok")
        return redirect(url_for("console.request_detail", request_id=made["id"]))
    state = request.args.get("state", "open")
    items = workflow.queue(call, state if state != "all" else None)
    return render_template("requests.html", items=items, state=state, kinds=REQUEST_KINDS,
                           regimes=list(request_rules.current().rules))  # fmt: skip


def _why(exc: GovernanceError) -> str:
    fields = "; ".join(f"{e['field']} {e['message']}" for e in exc.errors)
    return exc.detail + (f" ({fields})" if fields else "")


@bp.route("/requests/<request_id>", methods=["GET", "POST"], endpoint="request_detail")
def request_detail(request_id: str) -> Any:
    call = current_call()
    found = workflow.load(call, request_id)
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "extend":
                workflow.extend(call, request_id, {"reason": _form_text("reason"),
                                                   "told_at": _form_text("told_at")})  # fmt: skip
            else:
                target = request.form.get("to")
                if target == "completed" and found.kind == "erasure":
                    require_recent_auth()  # resumes this form once the password is confirmed
                body = {
                    "to": target,
                    "verification": _form_text("verification"),
                    "reason": _form_text("reason"),
                    "note": _form_text("note"),
                }
                workflow.transition(call, request_id,
                                    {k: v for k, v in body.items() if v})  # fmt: skip
        except GovernanceError as exc:
            flash(_("Not done: %(why)s", why=_why(exc)), "error")
        else:
            flash(_("Request updated."), "ok")
        return redirect(url_for("console.request_detail", request_id=request_id))
    doc = workflow.describe(found, call.now(), history=True)
    export = exports.describe_export(exports.latest(call, found.id))
    return render_template("request.html", r=doc, export=export)


@bp.get("/requests/<request_id>/export", endpoint="request_export")
def request_export(request_id: str) -> Any:
    call = current_call()
    content, name = exports.download(call, workflow.load(call, request_id))
    return Response(content, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})  # fmt: skip


@bp.get("/requests/<request_id>/certificate", endpoint="request_certificate")
def request_certificate(request_id: str) -> Any:
    doc = certificate.certificate(current_call(), request_id)
    name = f"erasure-certificate-{request_id}.json"
    return Response(
        json.dumps(doc, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/reports/erasure-certificate/<request_id>", endpoint="report_erasure_certificate")
def report_erasure_certificate(request_id: str) -> Any:
    pdf = certificate.certificate_pdf(current_call(), request_id)
    return pdf_response(pdf, f"erasure-certificate-{request_id}.pdf")
