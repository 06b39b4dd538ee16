"""The governed read of customer data: every read of customers, their orders and interactions
goes through here, from the API, the console, the CLI and the server's internal reads.

The path of one read (ARCHITECTURE.md, "The path of one governed read"):

1. load the rows the selection names together with their wrapped data keys, in one query (a
   list filters and pages in SQL, so a page is never short because rows were dropped later);
2. the purpose check (``services/consent``), once, with every subject, before any key is
   unwrapped;
3. the caller's level per field (clear / masked / hidden, ``policies/visibility.yaml``), once
   per read, not per row;
4. unwrap the data keys (no further query) and decrypt only the fields the caller will see in
   clear or masked: a hidden field is never decrypted;
5. mask;
6. append the audit entry (who, what, purpose, subjects, fields) in the caller's transaction.

Orders and interactions (``records.py``) are read through the same steps (``load_one``,
``govern``, ``audit_read``): their own documents and entry, no second copy of the sequence.
Internal reads that need values rather than a masked view (PII scans, quality, imports' updates,
merge, legacy-field sealing) take their keys from ``subject_keys``: the same purpose check and
key step, with a *system* purpose on the call (``policies/purposes.yaml``), audited as such.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, select

from governance.context import Call, system_purpose
from governance.errors import NotFound
from governance.models import Customer, DataKey, Tombstone
from governance.models.ids import is_id
from governance.policyfiles import load_field_rules
from governance.purposes import PurposeSpec
from governance.purposes import current as purposes
from governance.security.masking import (
    CLEAR,
    HIDDEN,
    MASKED,
    RevealNotAllowed,
    default_visibility,
    mask_value,
)
from governance.services.consent.lawful_basis import (
    NOW_PARAM,
    list_filter,
    list_params,
    require_lawful_basis,
    require_purpose,
    state_columns,
    states_of,
    subject_states,
)
from governance.services.customers import listing, store
from governance.services.keys.vault import DataUnavailable, SubjectErased

field_rules = functools.cache(load_field_rules)

# Every key of a customer document, in the order the document lists them.
DOCUMENT = ("id", *store.FIELDS, "created_at", "updated_at")


@dataclass(frozen=True)
class Selection:
    """Which customers a read returns: one id, or one page of a filtered list."""

    customer_id: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    cursor: str | None = None
    limit: int = 50

    @classmethod
    def one(cls, customer_id: str) -> Selection:
        """The customer with this id (404 when unknown, 410 when erased)."""
        return cls(customer_id=customer_id)

    @classmethod
    def page(
        cls, filters: Mapping[str, str], cursor: str | None = None, limit: int = 50
    ) -> Selection:
        """A page of customers in creation order, after ``cursor``."""
        return cls(filters=dict(filters), cursor=cursor, limit=max(1, min(limit, store.MAX_PAGE)))


@dataclass
class Page:
    """What a read returns: the documents as the caller may see them, and the audit's view."""

    items: list[dict[str, Any]]
    subjects: list[str]
    levels: dict[str, str]
    next_cursor: str | None = None


class StoredKey(NamedTuple):
    """A subject's wrapped data key as loaded beside its row (what ``Vault.unwrap_rows`` reads)."""

    subject_id: str
    key_id: bytes
    kek_version: int
    wrapped: bytes


# Step 1 as SQLAlchemy Core: the customer's columns and its wrapped key in one SELECT. Rows come
# back as plain result rows (attribute access by column name, as ``store.to_document`` reads
# them), not ORM instances: a read changes nothing, so identity map and change tracking would be
# work for nothing (about half of a read's time in the profile, bench/profile_governed.py).
CUSTOMERS = Customer.__table__
KEYS = DataKey.__table__
KEY_COLUMNS = (
    KEYS.c.subject_id.label("dk_subject_id"),
    KEYS.c.key_id.label("dk_key_id"),
    KEYS.c.kek_version.label("dk_kek_version"),
    KEYS.c.wrapped.label("dk_wrapped"),
)
WITH_KEY = select(*CUSTOMERS.c, *KEY_COLUMNS).select_from(
    CUSTOMERS.outerjoin(KEYS, KEYS.c.subject_id == CUSTOMERS.c.id)
)
ONE = WITH_KEY.where(CUSTOMERS.c.id == bindparam("id"))

Loaded = list[tuple[Any, StoredKey | None]]
"""Customer rows (``customers`` columns by name) and their wrapped keys (None: no key)."""
Render = Callable[[Any, Any, Mapping[str, str]], list[dict[str, Any]]]


def read_subjects(
    call: Call,
    selection: Selection,
    fields: Sequence[str] = store.FIELDS,
    *,
    reveal_reason: str | None = None,
) -> Page:
    """Customers the selection names, as the caller may see ``fields`` of them; audited as
    ``customer.read`` (one id) or ``customer.list`` (a page), with the call's purpose.

    The purpose check comes first (``services/consent/lawful_basis.py``); a list leaves out,
    in SQL, the subjects the purpose may not process, and a direct read of one answers 403.
    Only the fields the purpose may use are returned. A ``reveal_reason`` turns the caller's
    reveal fields clear (RevealNotAllowed without the right) and is recorded in the entry.
    """
    spec = require_purpose(call)
    reveal = bool(reveal_reason and reveal_reason.strip())
    wanted = set(fields) & allowed_fields(spec, store.TABLE, store.FIELDS)
    levels_now = field_levels(call, DOCUMENT, reveal=reveal, table=store.TABLE)
    marketing = "marketing" in wanted and levels_now.get("marketing") != HIDDEN
    loaded, more = _load(call, selection, spec, marketing)
    if selection.customer_id is not None:
        # The consent check of a direct read (403) and its marketing view came with the row.
        states = states_of(spec, [row for row, _ in loaded], marketing=marketing)
    else:
        # A page's marketing view: one query over the page's ids. Not columns of the list
        # query: PostgreSQL plans those for every row the list could match, not the 50 it
        # returns, and hashes each purpose's consents in full (linear in the customers).
        ids = [row.id for row, _ in loaded]
        states = subject_states(call, spec, ids, check=False, marketing=marketing)

    def render(row: Any, key: Any, levels: Mapping[str, str]) -> list[dict[str, Any]]:
        shown = [name for name in store.FIELDS if name in wanted and levels[name] != HIDDEN]
        doc = store.to_document(call, row, key, shown)
        doc["marketing"] = states.marketing.get(row.id, {})
        return [doc]

    items, levels = govern(
        call,
        loaded,
        DOCUMENT,
        render,
        reveal=reveal,
        table=store.TABLE,
        checked=True,
        levels=levels_now,
    )
    subjects = [row.id for row, _ in loaded]
    if selection.customer_id is not None:
        details: dict[str, Any] = {
            "fields": levels,
            "reveal_reason": reveal_reason if reveal else None,
        }
        audit_read(call, "customer.read", subject_id=subjects[0], details=details)
    else:
        details = {
            "subjects": subjects,
            "fields": levels if subjects else {},
            "filters": sorted(selection.filters),
        }
        audit_read(call, "customer.list", details=details)
    cursor = store.encode_cursor(subjects[-1]) if more and subjects else None
    return Page(items, subjects, levels, cursor)


def allowed_fields(spec: PurposeSpec, table: str, fields: Iterable[str]) -> set[str]:
    """The fields of ``table`` the purpose may use (all of them for a system purpose)."""
    if spec.system:
        return set(fields)
    return set(fields) & set(spec.fields_of(table))


def govern(
    call: Call,
    loaded: Loaded,
    fields: Sequence[str],
    render: Render,
    *,
    reveal: bool = False,
    table: str = store.TABLE,
    checked: bool = False,
    levels: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Steps 2 to 5 for loaded subjects: purpose check, field levels, keys, decrypt, mask.

    ``render`` decrypts a subject's documents given its key and the levels (it must leave
    hidden fields undecrypted); ``fields`` names every field the documents carry, of
    ``table``. ``checked``: the caller already ran the purpose and consent check; ``levels``:
    the ``field_levels`` of ``fields`` it already worked out for this call.
    """
    if not checked:
        require_lawful_basis(call, [row.id for row, _ in loaded])
    if levels is None:
        levels = field_levels(call, fields, reveal=reveal, table=table)
    keys = call.vault.unwrap_rows(key for _, key in loaded if key is not None)
    items: list[dict[str, Any]] = []
    for row, _ in loaded:
        if row.id not in keys:
            raise DataUnavailable(f"no data key for subject {row.id}")
        items.extend(mask(levels, doc) for doc in render(row, keys[row.id], levels))
    return items, levels


def field_levels(
    call: Call, fields: Iterable[str], *, reveal: bool = False, table: str | None = None
) -> dict[str, str]:
    """The caller's level per field; RevealNotAllowed when ``reveal`` is asked without the right.

    With ``table``, a field of that table the call's purpose may not use is hidden.
    """
    policy = default_visibility()
    roles = call.actor.roles
    if reveal and not policy.can_reveal(roles):
        raise RevealNotAllowed()
    levels = dict(policy.levels(roles, fields, reveal=reveal))
    if table is not None and call.purpose is not None:
        spec = purposes()[call.purpose.name]
        if not spec.system:
            usable = spec.fields_of(table)
            declared = {name for t, name in field_rules() if t == table}
            for name in levels:
                if name in declared and name not in usable:
                    levels[name] = HIDDEN
    return levels


def mask(levels: Mapping[str, str], doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` as the levels show it: clear, masked, or left out (hidden or unknown)."""
    masks = default_visibility().masks
    shown: dict[str, Any] = {}
    for name, value in doc.items():
        level = levels.get(name, HIDDEN)
        if level == CLEAR:
            shown[name] = value
        elif level == MASKED:
            shown[name] = mask_value(masks.get(name, "text"), value)
    return shown


def internal(call: Call, name: str) -> Call:
    """``call`` declaring the system purpose ``name`` (``policies/purposes.yaml``), unless it
    already declares a system purpose (a CLI ``--purpose``)."""
    if call.purpose is not None and call.purpose.system:
        return call
    return call.for_purpose(system_purpose(name))


def subject_keys(call: Call, subject_ids: Iterable[str]) -> dict[str, Any]:
    """Data keys for an internal read by a system purpose: the purpose check, then one query
    per 500 subjects. Erased subjects are absent from the result."""
    ids = list(dict.fromkeys(subject_ids))
    if call.purpose is None or not call.purpose.system:
        raise ValueError("an internal read declares a system purpose")
    require_lawful_basis(call, ids)
    return call.vault.subject_keys(call.session, ids)


def load_one(
    call: Call, customer_id: str, *, check: PurposeSpec | None = None, marketing: bool = False
) -> tuple[Any, StoredKey | None]:
    """A customer row and its wrapped data key, in one query; NotFound, or 410 when erased.

    With ``check`` (the declared purpose) the same statement carries the row's consent check,
    with ``marketing`` its marketing view (``lawful_basis.state_columns``, read by
    ``states_of``): a governed read costs no extra query for them.
    """
    if not is_id(customer_id):
        raise NotFound("no customer with that id")
    params: dict[str, Any] = {"id": customer_id}
    statement = ONE
    if (check is not None and not check.system) or marketing:
        statement = _one_with_states(check.name if check else None, marketing)
        params[NOW_PARAM] = call.now()
    found = call.session.connection().execute(statement, params).first()
    if found is None:
        if call.session.get(Tombstone, customer_id) is not None:
            raise SubjectErased(f"customer {customer_id} was erased")
        raise NotFound(f"no customer {customer_id}")
    return found, _stored_key(found)


def _stored_key(row: Any) -> StoredKey | None:
    if row.dk_subject_id is None:
        return None
    return StoredKey(row.dk_subject_id, row.dk_key_id, row.dk_kek_version, row.dk_wrapped)


@functools.cache
def _one_with_states(purpose: str | None, marketing: bool) -> Any:
    return ONE.add_columns(*state_columns(purpose, purpose is not None, marketing))


def _load(
    call: Call, selection: Selection, spec: PurposeSpec, marketing: bool
) -> tuple[Loaded, bool]:
    if selection.customer_id is not None:
        return [load_one(call, selection.customer_id, check=spec, marketing=marketing)], False
    values = listing.filter_values(call, selection.filters)
    params: dict[str, Any] = {listing.param(name): value for name, value in values.items()}
    params[PAGE_LIMIT] = selection.limit + 1
    if selection.cursor:
        params[AFTER] = store.decode_cursor(selection.cursor)
    if not spec.system:  # subjects the purpose may not process are left out here, in SQL
        params.update(list_params(call))
    purpose = None if spec.system else spec.name
    statement = _list_statement(tuple(sorted(values)), purpose, bool(selection.cursor))
    rows = call.session.connection().execute(statement, params).all()
    return [(row, _stored_key(row)) for row in rows[: selection.limit]], len(rows) > selection.limit


PAGE_LIMIT = "page_limit"
AFTER = "page_after"


@functools.lru_cache(maxsize=1024)
def _list_statement(filters: tuple[str, ...], purpose: str | None, after: bool) -> Any:
    """A list page's statement, one object per shape (filter names, purpose, cursor or not):
    values are bound at execution, so SQLAlchemy finds its compiled form without rebuilding
    the expression or computing its cache key again (0.16 to 0.2 ms of every consent-filtered
    list page before, timed on ``_generate_cache_key``)."""
    query = WITH_KEY.where(*listing.filter_conditions(filters))
    if purpose is not None:
        query = query.where(list_filter(purpose))
    if after:
        query = query.where(CUSTOMERS.c.id > bindparam(AFTER))
    return query.order_by(CUSTOMERS.c.id).limit(bindparam(PAGE_LIMIT, type_=Integer))


def audit_read(
    call: Call,
    action: str,
    *,
    resource: str = store.TABLE,
    subject_id: str | None = None,
    details: dict[str, Any],
) -> None:
    """Step 6: the read's audit entry, with the call's declared purpose."""
    call.audit.record(
        call.session,
        call.actor,
        action,
        now=call.now(),
        resource=resource,
        subject_id=subject_id,
        purpose=call.purpose_name,
        details=details,
    )


def read_customer(
    call: Call, customer_id: str, *, reveal_reason: str | None = None
) -> dict[str, Any]:
    """One customer, masked for the caller (clear where allowed, with a recorded reason)."""
    page = read_subjects(call, Selection.one(customer_id), reveal_reason=reveal_reason)
    return page.items[0]


def list_customers(
    call: Call, filters: dict[str, str], *, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """One page of customers in creation order, filtered by blind index or clear columns."""
    page = read_subjects(call, Selection.page(filters, cursor, limit))
    return {"items": page.items, "next_cursor": page.next_cursor}
