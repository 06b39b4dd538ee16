"""Areas later issues fill: a page saying so, so the navigation and the policy already cover
their routes (none is left today; ``_later`` stays for the next one)."""

from __future__ import annotations

from typing import Any

from flask import render_template


def _later(area: str, issue: str) -> Any:
    return render_template("later.html", area=area, issue=issue)
