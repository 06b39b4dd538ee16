"""Backup job kinds: ``backup.create`` and ``backup.verify`` (run by the worker, the console's
"back up now" / "verify now", and the schedule).

The schedule (``GOVERNANCE_BACKUP_EVERY_HOURS``, default daily) submits ``backup.create``; a
scheduled backup then submits the verification of itself, so each period ends with the newest
backup proven by a restore (or the dashboard and ``/readyz`` saying it was not).
"""

from __future__ import annotations

from typing import Any

from governance.services.backups import create, files
from governance.services.backups import verify as verifier
from governance.services.jobs import queue as jobs
from governance.services.jobs.schedule import register_schedule

CREATE = "backup.create"
VERIFY = "backup.verify"
REPORT_EVERY = 16 << 20  # bytes between progress commits


@jobs.register(CREATE)
def run_create(ctx: jobs.JobContext) -> dict[str, Any]:
    """Take a backup (which prunes old ones); the result names it."""
    last = [0]

    def progress(done: int, total: int | None) -> None:
        if done - last[0] >= REPORT_EVERY or (total is not None and done >= total):
            last[0] = done
            ctx.progress(done, total)

    manifest = create.create_backup(ctx.call, progress=progress)
    result = {"backup_id": manifest["id"], "size": manifest["file"]["size"],
              "tree_size": manifest["audit"]["tree_size"]}  # fmt: skip
    if ctx.params.get("verify"):
        verify = jobs.submit(ctx.call, VERIFY, {"backup_id": manifest["id"]})
        result["verification_job"] = verify.id
    return result


def _scheduled() -> dict[str, Any]:
    return {"verify": True}


register_schedule("backup.create", CREATE, "BACKUP_EVERY_HOURS", 24, _scheduled)


@jobs.register(VERIFY)
def run_verify(ctx: jobs.JobContext) -> dict[str, Any]:
    """Verify ``params.backup_id`` (default: the newest backup) by restoring it."""
    call = ctx.call
    backup_id = ctx.params.get("backup_id") or files.latest_id(files.backup_dir(call.settings))
    result = verifier.verify_backup(call, str(backup_id), progress=lambda d, t: ctx.progress(d, t))
    if result["status"] != "passed":
        raise verifier.CheckFailed(str(result["failed_check"]), str(result["detail"]))
    return {"backup_id": backup_id, "verification": result["id"], "status": result["status"]}
