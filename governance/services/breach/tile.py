"""The dashboard tile of breach response: open incidents and the nearest notification deadline."""

from __future__ import annotations

from sqlalchemy import func, select

from governance.context import Call
from governance.models import Incident
from governance.services.breach import tasks
from governance.services.evidence.dashboard import N_, Tile, provider


@provider("incidents", pages=("console.incidents",), order=25)
def open_incidents(call: Call) -> Tile:
    """Open incidents; the nearest deadline as a countdown (red once a notice is overdue)."""
    query = select(func.count()).select_from(Incident).where(Incident.state != "closed")
    count = int(call.session.scalar(query) or 0)
    due = tasks.due_soon(call, limit=1)
    if not due:
        return Tile(
            "incidents",
            N_("Open incidents"),
            count,
            N_("no notification is due"),
            "console.incidents",
            state="good" if count == 0 else "warn",
        )
    first = due[0]
    left = int(first["seconds_left"] or 0)
    hours = abs(left) // 3600
    detail = (
        N_("%(regime)s %(target)s notice overdue by %(hours)s h")
        if left < 0
        else N_("next: %(regime)s %(target)s notice due in %(hours)s h")
    )
    return Tile(
        "incidents",
        N_("Open incidents"),
        count,
        detail,
        "console.incidents",
        state="bad" if left < 0 else "warn",
        detail_args={"regime": first["regime"], "target": first["target"], "hours": str(hours)},
    )
