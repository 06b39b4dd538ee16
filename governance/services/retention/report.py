"""The retention report's data: rules, what each removed in the period, holds in force."""

from __future__ import annotations

from datetime import datetime

from governance.context import Call
from governance.services.retention import holds, sweep
from governance.services.retention import rules as retention_rules


def retention_pdf(call: Call, start: datetime, end: datetime) -> bytes:
    """The retention report PDF for ``[start, end)`` (counts and reasons; no personal value)."""
    from reports.retention import RetentionReport, build_retention_report

    policy = retention_rules.current()
    planned = [p for p in sweep.plan(call, policy)["rules"] if p["count"]]
    data = RetentionReport(
        generated_at=call.now(),
        period=f"{start.date().isoformat()} to {end.date().isoformat()}",
        rules=[vars(r) | {"event": r.event} for r in policy.rules],
        removed=sweep.removals_by_rule(call, start, end),
        holds=holds.list_holds(call),
        planned=planned,
    )
    return build_retention_report(data)
