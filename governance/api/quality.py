"""Data-quality summary."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from governance.api import bp
from governance.extensions import db
from governance.services import quality
from governance.web import current_call


@bp.get("/quality")
def quality_summary() -> Any:
    result = quality.summary(current_call())
    db.session.commit()
    return jsonify(result)
