"""The DPO console: server-rendered pages, one guard (governance.web.edge), CSRF on every form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console-static",
)

NAV = (
    ("console.index", "Dashboard"),
    ("console.customers", "Customers"),
    ("console.consent", "Consent"),
    ("console.retention", "Retention"),
    ("console.pii", "PII findings"),
    ("console.audit", "Audit"),
    ("console.backups", "Backups"),
    ("console.incidents", "Incidents"),
    ("console.reports", "Reports"),
    ("console.jobs", "Jobs"),
    ("console.users", "Users"),
    ("console.service_accounts", "Service accounts"),
    ("console.policy", "Policy"),
    ("console.keys", "Keys"),
)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    """Navigation entries the signed-in user's roles may open."""
    actor = g.get("actor")
    if actor is None or actor.type != "user":
        return {"nav_items": []}
    from flask import current_app

    from governance.web.edge import rule_pattern
    from governance.web.guard import authorizer

    rules = {r.endpoint: r.rule for r in current_app.url_map.iter_rules()}
    decide = authorizer()
    items = [
        (endpoint, label)
        for endpoint, label in NAV
        if endpoint in rules
        and decide.allowed(frozenset(actor.roles), rule_pattern(rules[endpoint]), "GET")
    ]
    return {"nav_items": items}


from governance.console import (  # noqa: E402,F401  (each module registers its pages)
    auditlog,
    auth,
    customers,
    dashboard,
    evidence,
    health,
    identity,
    jobs,
    later,
    pii,
)
