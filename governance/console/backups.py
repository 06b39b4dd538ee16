"""Console: backups and their verification by restore.

``/backups`` lists the backups (size, database, latest verification) and every verification
attempt. An admin starts "back up now" and "verify now" (``backup.create`` / ``backup.verify``
jobs, followed live on the job page); the dpo sees everything read-only; an auditor sees the
verification history and the reports. ``/backups/report`` is the backup verification report
PDF (audited). Restores are an operator's act on the command line (``governance backup
restore``): they replace a database and need its URL.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from governance.console import bp
from governance.console.visible import may_get
from governance.errors import ValidationError
from governance.services.backups import files, status
from governance.services.backups import jobs as backup_jobs
from governance.services.backups import report as backup_report
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call
from governance.web.responses import pdf_response


@bp.route("/backups", methods=["GET", "POST"], endpoint="backups")
def backups_page() -> Any:
    call = current_call()
    if request.method == "POST":
        return _act(call)
    roles = call.actor.roles
    sees_backups = "auditor" not in roles or bool({"admin", "dpo"} & set(roles))
    return render_template(
        "backups.html",
        backups=status.list_backups(call) if sees_backups else None,
        history=status.history(call, 50),
        health=status.health(call),
        directory=str(files.backup_dir(call.settings)) if sees_backups else None,
        may_run="admin" in roles,
        may_report=may_get(roles, "console.backup_report"),
    )


def _act(call: Any) -> Any:
    action = request.form.get("action", "")
    if "admin" not in call.actor.roles:
        raise ValidationError("unknown action", [{"field": "action", "message": "not allowed"}])
    if action == "create":
        job = jobs.submit(call, backup_jobs.CREATE, {})
        flash("Backup queued: a worker (or this server's job runner) takes it now.", "ok")
    elif action == "verify":
        backup_id = request.form.get("backup_id") or None
        if backup_id is not None and not files.ID.match(backup_id):
            raise ValidationError("bad backup id", [{"field": "backup_id", "message": "unknown"}])
        job = jobs.submit(call, backup_jobs.VERIFY, {"backup_id": backup_id} if backup_id else {})
        flash("Verification queued: the backup is restored into a scratch database and checked.",
              "ok")  # fmt: skip
    else:
        raise ValidationError("unknown action", [{"field": "action", "message": "unknown"}])
    return redirect(url_for("console.job_page", job_id=job.id))


@bp.get("/backups/report", endpoint="backup_report")
def backup_report_page() -> Any:
    backup_id = request.args.get("backup_id") or None
    if backup_id is not None and not files.ID.match(backup_id):
        raise ValidationError("bad backup id", [{"field": "backup_id", "message": "unknown"}])
    pdf = backup_report.verification_pdf(current_call(), backup_id)
    return pdf_response(pdf, "backup-verification.pdf")
