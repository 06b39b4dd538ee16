"""Purpose limitation in the governed read pipeline (``services/customers/reads.py``): GDPR
Art. 5(1)(b), 6; PIPL Art. 6, 13.

The checks run in this order, after authentication (401) and the route policy (403):
``require_purpose`` — a purpose is declared (400 ``purpose-required``), known (422, at parse
time) and the caller's role may declare it (403 ``purpose-not-allowed``); then per subject, its
consent for a consent-based purpose and no objection or restriction covering the purpose (403
``consent-required`` on a direct read; lists leave the subject out in SQL: ``list_filter``).

A direct read costs no query of its own: the check and the ``marketing`` view of the ledger are
columns of the statement that loads the row (``state_columns``, read back by ``states_of``). A
list costs none for the check (its filter is part of the list's own query) and one query for
the view of the page's subjects (``subject_states``). Other internal reads of several subjects
check them with ``require_lawful_basis`` (one query).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, select, true

from governance.context import Call
from governance.errors import Forbidden, GovernanceError
from governance.models import Customer
from governance.models.ids import UTCDateTime
from governance.purposes import PurposeSpec
from governance.purposes import current as purposes
from governance.services.consent import rules

# The customer document's ``marketing`` flags and the purposes whose consent they show.
MARKETING = {
    "email": "marketing_email",
    "sms": "marketing_sms",
    "phone": "marketing_phone",
    "post": "marketing_post",
}


class PurposeRequired(GovernanceError):
    """No purpose was declared for a read of customer data."""

    status = 400
    slug = "purpose-required"
    title = "Purpose required"


class PurposeNotAllowed(Forbidden):
    """The caller's role may not declare this purpose (``policies/purposes.yaml``)."""

    slug = "purpose-not-allowed"
    title = "Purpose not allowed"


class ConsentRequired(Forbidden):
    """The subject has no current consent for the purpose, or objected or restricted it."""

    slug = "consent-required"
    title = "Consent required"


def require_purpose(call: Call) -> PurposeSpec:
    """The declared purpose's spec: 400 when none, 403 when the role may not declare it.

    System purposes pass: only the server's internal reads can declare them.
    """
    if call.purpose is None:
        raise PurposeRequired(
            "declare the purpose of this read of customer data (the X-Purpose header)"
        )
    spec = purposes()[call.purpose.name]
    if spec.system:
        return spec
    if not spec.may_declare(call.actor.roles):
        raise PurposeNotAllowed(
            f"the role {call.actor.role or '(none)'} may not declare the purpose {spec.name}",
            [{"field": "X-Purpose", "message": f"{spec.name} is not allowed for this role"}],
        )
    return spec


def list_filter(name: str) -> ColumnElement[bool]:
    """The SQL condition a list adds: subjects the purpose ``name`` may process now. Built once
    per purpose (expression building costs more than the indexed lookups it makes); the list's
    execution binds ``NOW_PARAM`` to the call's clock (``list_params``)."""
    return _list_condition(name)


def list_params(call: Call) -> dict[str, Any]:
    """The values ``list_filter``'s condition needs at execution."""
    return {NOW_PARAM: call.now()}


NOW_PARAM = "consent_now"
_NOW = bindparam(NOW_PARAM, type_=UTCDateTime())
_IDS: BindParameter[Any] = bindparam("consent_ids", expanding=True)


@functools.cache
def _list_condition(name: str) -> ColumnElement[bool]:
    return rules.permitted(Customer.id, purposes()[name], _NOW)


@functools.cache
def state_columns(name: str | None, check: bool, marketing: bool) -> tuple[Any, ...]:
    """The consent state of the customer row a statement selects, as extra columns of that
    statement (correlated, indexed ``EXISTS`` subqueries on ``customers.id``): so a direct read
    loads the row, its wrapped key and its purpose check in one statement, and a list page its
    rows and their marketing view. Labelled ``cs_*``; built once per (purpose, check,
    marketing); the execution binds ``NOW_PARAM``."""
    columns: list[Any] = []
    if check and name is not None:
        spec = purposes()[name]
        if not spec.system:
            columns.append((~rules.blocked(Customer.id, spec)).label("cs_free"))
            consented = (
                rules.consent_valid(Customer.id, spec.name, _NOW) if spec.consent_based else true()
            )
            columns.append(consented.label("cs_consented"))
    if marketing:
        for flag, purpose in MARKETING.items():
            columns.append(rules.consent_valid(Customer.id, purpose, _NOW).label(f"cs_{flag}"))
            columns.append(rules.has_state(Customer.id, purpose).label(f"cs_{flag}_known"))
    return tuple(columns)


def states_of(spec: PurposeSpec | None, rows: Sequence[Any], *, marketing: bool) -> States:
    """Read the ``state_columns`` of ``rows``: ConsentRequired when a row carries the purpose
    check and fails it; the marketing view of each row when asked."""
    states = States()
    for row in rows:
        mapping = row._mapping
        if "cs_free" in mapping:
            assert spec is not None
            if not mapping["cs_free"]:
                raise ConsentRequired(
                    f"the customer objected to or restricted processing for {spec.name}",
                    [{"field": "X-Purpose", "message": f"{spec.name}: objection or restriction"}],
                )
            if not mapping["cs_consented"]:
                raise ConsentRequired(
                    f"the customer has no current consent for {spec.name}",
                    [{"field": "X-Purpose", "message": f"{spec.name}: no current consent"}],
                )
        if marketing:
            states.marketing[row.id] = {
                flag: bool(mapping[f"cs_{flag}"])
                for flag in MARKETING
                if mapping[f"cs_{flag}_known"]
            }
    return states


@functools.cache
def _states_statement(name: str | None, check: bool, marketing: bool) -> Any:
    columns = state_columns(name, check, marketing)
    return select(Customer.id, *columns).where(Customer.id.in_(_IDS))


@dataclass
class States:
    """Per subject of a read: the ``marketing`` view of its consents."""

    marketing: dict[str, dict[str, bool]] = field(default_factory=dict)


def subject_states(
    call: Call, spec: PurposeSpec | None, ids: Sequence[str], *, check: bool, marketing: bool
) -> States:
    """One indexed query for the subjects ``ids``: with ``check``, raise ConsentRequired when
    one may not be processed for ``spec``; with ``marketing``, their marketing view."""
    if spec is None or spec.system:
        check = False
    if not ids or not (check or marketing):
        return States()
    statement = _states_statement(spec.name if check and spec else None, check, marketing)
    params = {NOW_PARAM: call.now(), "consent_ids": list(ids)}
    rows = call.session.execute(statement, params).all()
    return states_of(spec, rows, marketing=marketing)


def require_lawful_basis(call: Call, subject_ids: Sequence[str]) -> PurposeSpec:
    """The purpose check of a read of ``subject_ids`` (one indexed query): 400, 403
    ``purpose-not-allowed`` or 403 ``consent-required``."""
    spec = require_purpose(call)
    subject_states(call, spec, subject_ids, check=True, marketing=False)
    return spec
