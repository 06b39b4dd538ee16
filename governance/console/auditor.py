"""The auditor's corner: the reports catalogue (every PDF, with a period), audit-log
verification against the signed checkpoint, the policy files in force with their change
history, and the one-click evidence pack (audited download)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from governance.console import bp
from governance.extensions import db
from governance.services.auditlog import names
from governance.services.auditlog import views as audit_views
from governance.services.breach.containment import check_downloads
from governance.services.evidence import pack, policy_files
from governance.web.edge import current_call

# The catalogue: (report, title, what it shows, console endpoint, takes a period)
CATALOGUE = (
    ("audit-trail", _l("Audit trail"),
     _l("Every entry of the period, activity by action and actor, reveals with their reasons, "
        "and a fresh verification of the whole log."), "console.audit_report", True),
    ("data-inventory", _l("Data inventory"),
     _l("Which fields the customer store holds, how complete they are, which are sensitive "
        "and encrypted."), "console.report_data_inventory", False),
    ("pii-discovery", _l("PII discovery"),
     _l("Personal data found by the latest scan, by place and type, with the trend and the "
        "open findings."), "console.report_pii_discovery", False),
    ("retention", _l("Retention"),
     _l("The retention rules in force, what each removed in the period, what is due now, "
        "and what is on legal hold and why."), "console.report_retention", True),
    ("breach-register", _l("Breach register"),
     _l("Every personal-data breach, notified or not, with its state, the people affected and "
        "the notifications made (GDPR Art. 33(5))."), "console.report_breach_register", False),
    ("backup-verification", _l("Backup verification"),
     _l("The latest restore of a backup: what was checked, the figures compared, the result and "
        "the audit checkpoint it is anchored to."), "console.backup_report", False),
)  # fmt: skip


@bp.get("/auditor", endpoint="auditor")
def auditor_page() -> Any:
    call = current_call()
    policy_files.observe(call)  # a policy change is in the log before it is shown
    history = policy_files.history(call, 50)
    actors = names.principals(db.session(), [h["actor_id"] for h in history])
    checkpoints = audit_views.list_checkpoints(db.session(), 1)
    start, end = audit_views.period({}, call.now())
    return render_template(
        "auditor.html",
        catalogue=CATALOGUE,
        files=policy_files.files(),
        history=history,
        actors=actors,
        checkpoint=checkpoints[-1] if checkpoints else None,
        tree_size=audit_views.list_entries(db.session(), {"limit": "1"})["tree_size"],
        default_from=start.date().isoformat(),
        default_to=end.date().isoformat(),
    )


@bp.get("/auditor/policies/<name>", endpoint="auditor_policy_file")
def policy_file_page(name: str) -> Any:
    text = policy_files.read(name)
    if text is None:
        abort(404)
    return render_template("policy_file.html", name=name, text=text)


@bp.post("/auditor/evidence-pack", endpoint="evidence_pack")
def evidence_pack() -> Response:
    """The ZIP (chosen reports, audit export, public key, policies, signed manifest)."""
    call = current_call()
    check_downloads(call.session)
    start, end = audit_views.period(
        {k: v for k, v in request.form.items() if k in ("from", "to") and v}, call.now()
    )
    chosen = request.form.getlist("reports")
    policy_files.observe(call)
    data, manifest = pack.build(call, chosen, start, end, current_app.config["DATABASE_URL"])
    stamp = manifest["generated_at"][:10]
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="evidence-pack-{stamp}.zip"'},
    )
