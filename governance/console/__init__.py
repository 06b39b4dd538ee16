"""The DPO console: server-rendered pages, one guard (governance.web.edge), CSRF on every form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from flask_babel import lazy_gettext as _l

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console-static",
)


# The navigation, in groups (one column that never wraps). Each entry is shown only to roles
# whose policy lets them open it, and only once its route exists, so pages other work adds
# (consent, requests, retention, backups, incidents) appear by adding an entry here.
NAV_GROUPS: tuple[tuple[Any, tuple[tuple[str, Any], ...]], ...] = (
    (_l("Overview"), (("console.index", _l("Dashboard")), ("console.jobs", _l("Jobs")))),
    (
        _l("Customer data"),
        (
            ("console.customers", _l("Customers")),
            ("console.quality", _l("Data quality")),
            ("console.imports", _l("Import")),
            ("console.consent", _l("Consent")),
            ("console.requests", _l("Requests")),
            ("console.retention", _l("Retention")),
        ),
    ),
    (
        _l("Protection"),
        (
            ("console.pii", _l("PII findings")),
            ("console.incidents", _l("Incidents")),
            ("console.backups", _l("Backups")),
        ),
    ),
    (
        _l("Evidence"),
        (
            ("console.audit", _l("Audit log")),
            ("console.reports", _l("Reports")),
            ("console.auditor", _l("Auditor's corner")),
        ),
    ),
    (
        _l("Administration"),
        (
            ("console.users", _l("Users")),
            ("console.service_accounts", _l("Service accounts")),
            ("console.policy", _l("Policy")),
            ("console.keys", _l("Keys")),
        ),
    ),
)
NAV = tuple(entry for _, entries in NAV_GROUPS for entry in entries)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    """Navigation entries the signed-in user's roles may open (flat and grouped)."""
    actor = g.get("actor")
    if actor is None or actor.type != "user":
        return {"nav_items": [], "nav_groups": []}
    from flask import current_app

    from governance.web.edge import rule_pattern
    from governance.web.guard import authorizer

    rules = {r.endpoint: r.rule for r in current_app.url_map.iter_rules()}
    decide = authorizer()
    held = frozenset(actor.roles)
    groups = []
    for group, entries in NAV_GROUPS:
        shown = [
            (endpoint, label)
            for endpoint, label in entries
            if endpoint in rules and decide.allowed(held, rule_pattern(rules[endpoint]), "GET")
        ]
        if shown:
            groups.append((group, shown))
    return {
        "nav_items": [(endpoint, str(label)) for _, shown in groups for endpoint, label in shown],
        "nav_groups": groups,
    }


from governance.console import (  # noqa: E402,F401  (each module registers its pages)
    auditlog,
    auditor,
    auth,
    backups,
    consent,
    customer_changes,
    customers,
    dashboard,
    evidence,
    health,
    identity,
    incidents,
    jobs,
    later,
    pii,
    quality,
    requests,
    retention,
)
