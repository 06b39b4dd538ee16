"""The console's start page: the tiles of ``services/evidence/dashboard.py`` the role may see
(each links to its page), and recent jobs."""

from __future__ import annotations

from typing import Any

from flask import render_template

from governance.console import bp
from governance.extensions import db
from governance.services.evidence.dashboard import tiles
from governance.services.jobs import queue as jobs
from governance.web.edge import current_call


@bp.get("/")
def index() -> Any:
    from governance.console.visible import may_get

    call = current_call()
    roles = call.actor.roles

    def may_open(pages: tuple[str, ...]) -> bool:
        return may_get(roles, *pages)

    shown = tiles(call, may_open)
    return render_template(
        "dashboard.html",
        tiles=shown,
        links={t.key: t.link for t in shown if t.link and may_get(roles, t.link)},
        jobs=jobs.recent(db.session(), 5, call.actor) if may_get(roles, "console.jobs") else None,
    )
