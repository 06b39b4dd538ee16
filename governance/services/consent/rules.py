"""The consent state as SQL: whether a subject may be processed for a purpose, derived from the
ledger in the database itself (correlated, indexed ``EXISTS`` subqueries), so lists filter
subjects in SQL and a direct read checks in its own statement.

The current state of (subject, purpose) is its latest *effective* event (a withdrawal of a
consent never granted is recorded but not effective), which the database keeps in
``consent_current`` (one row per subject and purpose, written only by the trigger on
``consent_events``: migration 0020), so finding it is one primary-key probe. A grant counts
while it has not expired (``expires_at``, from the notice's consent lifetime) and no notice
that took effect after the grant's notice, and before now, widens the purpose (re-consent
needed). An objection to the purpose (or to every objectable purpose) or a restriction of
processing, not lifted since, blocks any purpose it covers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from governance.models import ConsentCurrent, NoticePurpose, ObjectionEvent
from governance.purposes import PurposeSpec


def latest_widening(purpose: str, now: Any) -> Any:
    """The effective date of the latest notice, in force by ``now``, that widens ``purpose``
    (NULL when none): one uncorrelated scalar subquery, computed once per statement."""
    return (
        select(func.max(NoticePurpose.effective_at))
        .where(
            NoticePurpose.purpose == purpose,
            NoticePurpose.widens.is_(True),
            NoticePurpose.effective_at <= now,
        )
        .scalar_subquery()
    )


def consent_valid(subject: Any, purpose: str, now: Any) -> ColumnElement[bool]:
    """True when ``subject``'s current consent for ``purpose`` is a grant that still counts
    (``now``: a time, or a bound parameter of one): not expired, and given under a notice no
    older than the latest one that widened the purpose."""
    current = aliased(ConsentCurrent)
    widening = latest_widening(purpose, now)
    return exists().where(
        current.customer_id == subject,
        current.purpose == purpose,
        current.action == "grant",
        or_(current.expires_at.is_(None), current.expires_at > now),
        or_(
            widening.is_(None),
            current.notice_effective_at.is_(None),
            current.notice_effective_at >= widening,
        ),
    )


def has_state(subject: Any, purpose: str) -> ColumnElement[bool]:
    """True when ``subject`` has any effective consent event for ``purpose``."""
    current = aliased(ConsentCurrent)
    return exists().where(current.customer_id == subject, current.purpose == purpose)


def blocked(subject: Any, spec: PurposeSpec) -> ColumnElement[bool]:
    """True when an objection or a restriction, not lifted since, covers ``spec`` for
    ``subject``."""
    held = aliased(ObjectionEvent)
    lift = aliased(ObjectionEvent)
    covers = [held.kind == "restriction"]
    if spec.objectable:
        covers.append(and_(held.kind == "objection", held.purpose == spec.name))
        covers.append(and_(held.kind == "objection", held.purpose.is_(None)))
    lifted = exists().where(
        lift.customer_id == held.customer_id,
        lift.kind == held.kind,
        lift.action == "lift",
        lift.purpose.is_not_distinct_from(held.purpose),
        lift.seq > held.seq,
    )
    return exists().where(
        held.customer_id == subject, held.action == "record", or_(*covers), ~lifted
    )


def permitted(subject: Any, spec: PurposeSpec, now: Any) -> ColumnElement[bool]:
    """True when ``subject`` may be processed for ``spec`` now (system purposes: always)."""
    if spec.system:
        return true()
    clauses = [~blocked(subject, spec)]
    if spec.consent_based:
        clauses.append(consent_valid(subject, spec.name, now))
    return and_(*clauses)
