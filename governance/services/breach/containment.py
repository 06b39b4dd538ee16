"""Containment from the incident: each action calls the service that owns it (identity, keys),
is written to the incident's timeline and audited with the incident's id, in one transaction.

Freezing downloads sets a flag on the incident; while any open incident holds it, exports and
report downloads answer 423 ``downloads-frozen`` (the incident's own documents stay available:
the people notifying need them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from governance.context import Call
from governance.errors import GovernanceError, NotFound, ValidationError
from governance.models import ConsoleSession, Incident, User
from governance.services.breach import incidents
from governance.services.identity import people, service_accounts

ACTIONS = (
    "revoke_token",
    "disable_user",
    "disable_service_account",
    "end_sessions",
    "freeze_downloads",
    "unfreeze_downloads",
    "rotate_kek",
)
NEEDS_TARGET = ("revoke_token", "disable_user", "disable_service_account")


class DownloadsFrozen(GovernanceError):
    """Exports and report downloads are frozen while an incident is contained."""

    status = 423
    slug = "downloads-frozen"
    title = "Downloads are frozen during an incident"


def act(call: Call, incident: Incident, action: Any, target: Any = None) -> dict[str, Any]:
    """Perform one containment action for ``incident``; what was done, as JSON (not committed)."""
    if action not in ACTIONS:
        raise ValidationError(
            "unknown action", [{"field": "action", "message": f"one of {', '.join(ACTIONS)}"}]
        )
    if action in NEEDS_TARGET and (not isinstance(target, str) or not target.strip()):
        raise ValidationError(
            "a target is needed",
            [{"field": "target", "message": "the id of the token, user or account"}],
        )
    details: dict[str, Any] = {"action": action}
    if action == "revoke_token":
        service_accounts.revoke_token(call, target)
        details["token_id"] = target
    elif action == "disable_user":
        user = call.session.get(User, target)
        if user is None:
            raise NotFound("no such user")
        people.set_state(call, user.email, "disabled")
        details["user_id"] = user.id
    elif action == "disable_service_account":
        account = service_accounts.set_service_account_state(call, target, "disabled")
        details["account_id"] = account.id
    elif action == "end_sessions":
        result = call.session.execute(delete(ConsoleSession))
        details["sessions_ended"] = int(getattr(result, "rowcount", 0) or 0)
    elif action in ("freeze_downloads", "unfreeze_downloads"):
        incident.freeze_downloads = action == "freeze_downloads"
    else:
        from governance.services.keys import rotation

        job = rotation.rotate(call)
        details["job_id"] = job.id
    incidents.event(call, incident, "containment", details=details)
    incidents.audit(call, incident, "incident.contain", containment=details)
    return {"incident_id": incident.id, **details}


def downloads_frozen(session: Session) -> str | None:
    """The id of an open incident that froze downloads, or None."""
    query = select(Incident.id).where(Incident.freeze_downloads.is_(True))
    return session.scalars(query.where(Incident.state != "closed").limit(1)).first()


def check_downloads(session: Session) -> None:
    """DownloadsFrozen (423) while an open incident froze exports and report downloads."""
    frozen = downloads_frozen(session)
    if frozen:
        raise DownloadsFrozen(
            f"incident {frozen} froze exports and report downloads; the DPO lifts the freeze "
            "from the incident page"
        )
