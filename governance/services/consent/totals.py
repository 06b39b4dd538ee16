"""Consent figures for the console, the API and the consent report: events per month by
purpose, action and notice version, and the current state per purpose (each one SQL query,
aggregated in the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, select, union_all

from governance.context import Call
from governance.errors import ValidationError
from governance.models import ConsentCurrent, ConsentEvent
from governance.purposes import current as purposes
from governance.services.consent import rules
from governance.services.customers.normalise import FieldError, parse_timestamp


def _month(call: Call, column: Any) -> Any:
    if call.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _moment(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except (FieldError, AssertionError):
        raise ValidationError(
            "bad parameter", [{"field": field, "message": "must be an ISO 8601 date or time"}]
        ) from None


def monthly(
    call: Call, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Events per month (of ``occurred_at``), purpose, action and notice version."""
    month = _month(call, ConsentEvent.occurred_at).label("month")
    query = select(
        month, ConsentEvent.purpose, ConsentEvent.action, ConsentEvent.notice_version,
        func.count().label("n"),
    ).where(ConsentEvent.effective.is_(True))  # fmt: skip
    if start is not None:
        query = query.where(ConsentEvent.occurred_at >= start)
    if end is not None:
        query = query.where(ConsentEvent.occurred_at <= end)
    query = query.group_by(month, ConsentEvent.purpose, ConsentEvent.action,
                           ConsentEvent.notice_version).order_by(month)  # fmt: skip
    return [
        {"month": m, "purpose": p, "action": a, "notice_version": v, "events": int(n)}
        for m, p, a, v, n in call.session.execute(query)
    ]


def current_states(call: Call) -> dict[str, dict[str, int]]:
    """Subjects per purpose and derived state now (granted, withdrawn, refused, expired,
    reconsent_needed), from each subject's latest effective event (``consent_current``).

    One statement reading index ranges only (no subject's row): per purpose the subjects by
    action, the expired grants, and the unexpired grants given under a notice older than the
    latest one that widened the purpose (re-consent needed, ``rules.latest_widening``: the same
    test the purpose check applies).
    """
    now = call.now()
    current = ConsentCurrent
    parts: list[Any] = []
    names = purposes().consent_based()
    for purpose in names:
        mine = current.purpose == purpose
        parts.append(
            select(literal(purpose), current.action, func.count()).where(mine)
            .group_by(current.action)
        )  # fmt: skip
        granted = and_(mine, current.action == "grant")
        expired = and_(current.expires_at.is_not(None), current.expires_at <= now)
        parts.append(
            select(literal(purpose), literal("expired"), func.count()).where(granted, expired)
        )
        parts.append(  # no widening notice: the comparison is NULL and counts nobody
            select(literal(purpose), literal("reconsent_needed"), func.count()).where(
                granted, current.notice_effective_at < rules.latest_widening(purpose, now), ~expired
            )
        )
    out: dict[str, dict[str, int]] = {p: {} for p in names}
    if not parts:
        return out
    counts: dict[tuple[str, str], int] = {}
    for purpose, name, count in call.session.execute(union_all(*parts)):
        counts[(purpose, name)] = int(count)
    for purpose in names:
        grants = counts.get((purpose, "grant"), 0)
        derived = {
            "withdrawn": counts.get((purpose, "withdraw"), 0),
            "refused": counts.get((purpose, "refuse"), 0),
            "expired": counts.get((purpose, "expired"), 0),
            "reconsent_needed": counts.get((purpose, "reconsent_needed"), 0),
        }
        derived["granted"] = grants - derived["expired"] - derived["reconsent_needed"]
        out[purpose] = {state: n for state, n in derived.items() if n}
    return out


def totals(call: Call, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """``{"current": {purpose: {state: subjects}}, "monthly": [...]}``."""
    return {
        "current": current_states(call),
        "monthly": monthly(call, _moment(start, "from"), _moment(end, "to")),
    }
