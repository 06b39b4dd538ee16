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

from sqlalchemy import ColumnElement, and_, exists, or_, true
from sqlalchemy.orm import aliased

from governance.models import ConsentCurrent, NoticePurpose, ObjectionEvent
from governance.purposes import PurposeSpec


def widened(purpose: Any, granted_under: Any, now: Any) -> ColumnElement[bool]:
    """True when a notice that took effect after ``granted_under`` (a grant's notice date),
    and by ``now``, widens ``purpose``: the grant needs re-consent."""
    return exists().where(
        NoticePurpose.purpose == purpose,
        NoticePurpose.widens.is_(True),
        NoticePurpose.effective_at > granted_under,
        NoticePurpose.effective_at <= now,
    )


def consent_valid(subject: Any, purpose: str, now: Any) -> ColumnElement[bool]:
    """True when ``subject``'s current consent for ``purpose`` is a grant that still counts
    (``now``: a time, or a bound parameter of one)."""
    current = aliased(ConsentCurrent)
    return exists().where(
        current.customer_id == subject,
        current.purpose == purpose,
        current.action == "grant",
        or_(current.expires_at.is_(None), current.expires_at > now),
        ~widened(current.purpose, current.notice_effective_at, now),
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
