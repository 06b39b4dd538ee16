"""Areas later issues fill (consent, retention, incidents): a page saying so, so the
navigation and the policy already cover their routes."""

from __future__ import annotations

from typing import Any

from flask import render_template

from governance.console import bp


def _later(area: str, issue: str) -> Any:
    return render_template("later.html", area=area, issue=issue)


@bp.get("/consent")
def consent() -> Any:
    return _later("Consent", "consent and purpose tracking")
