"""Consent figures for the console, the API and the consent report: events per month by
purpose, action and notice version, and the current state per purpose (each one SQL query,
aggregated in the database).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from governance.context import Call
from governance.errors import ValidationError
from governance.models import ConsentEvent, NoticePurpose
from governance.purposes import current as purposes
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
    reconsent_needed), from each subject's latest effective event."""
    now = call.now()
    event, later = aliased(ConsentEvent), aliased(ConsentEvent)
    newer = exists().where(
        later.customer_id == event.customer_id, later.purpose == event.purpose,
        later.effective.is_(True), later.seq > event.seq,
    )  # fmt: skip
    widened = exists().where(
        NoticePurpose.purpose == event.purpose, NoticePurpose.widens.is_(True),
        NoticePurpose.effective_at > event.notice_effective_at, NoticePurpose.effective_at <= now,
    )  # fmt: skip
    state = case(
        (event.action == "withdraw", "withdrawn"),
        (event.action == "refuse", "refused"),
        (and_(event.expires_at.is_not(None), event.expires_at <= now), "expired"),
        (widened, "reconsent_needed"),
        else_="granted",
    ).label("state")
    query = (
        select(event.purpose, state, func.count())
        .where(event.effective.is_(True), ~newer)
        .group_by(event.purpose, state)
    )
    out: dict[str, dict[str, int]] = {p: {} for p in purposes().consent_based()}
    for purpose, name, count in call.session.execute(query):
        out.setdefault(purpose, {})[name] = int(count)
    return out


def totals(call: Call, start: str | None = None, end: str | None = None) -> dict[str, Any]:
    """``{"current": {purpose: {state: subjects}}, "monthly": [...]}``."""
    return {
        "current": current_states(call),
        "monthly": monthly(call, _moment(start, "from"), _moment(end, "to")),
    }
