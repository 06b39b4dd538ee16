"""Customers: create, update and erase, each encrypted, masked and audited (reads go through
the governed pipeline, ``reads.py``).

Every function takes a ``Call`` (session, actor, vault, audit log, clock); the caller commits. The
audit entry is appended in the same transaction as the read or change it records.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select

from governance.context import Call
from governance.errors import MalformedRequest, NotFound, ValidationError
from governance.models import Customer, DataKey, Tombstone
from governance.models.ids import is_id, new_id
from governance.security.masking import apply_visibility
from governance.services.consent import marketing
from governance.services.customers import disclosure
from governance.services.customers import normalise as norm
from governance.services.customers.merge_patch import changed_subfields, merge_nested, refuse_masks
from governance.services.keys.vault import SubjectErased

TABLE = "customers"
FIELDS = (
    "external_ref",
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "national_id",
    "address",
    "country",
    "subdivision",
    "language",
    "marketing",
)
READ_ONLY = ("id", "created_at", "updated_at")
# What a partial update is validated against: the locale and the birth date / resident id pair.
LOCALE_FIELDS = ("country", "subdivision", "language", "date_of_birth", "national_id")
STRUCTURED = {"address"}
STRUCTURED_FIELDS = frozenset(STRUCTURED)
MAX_PAGE = 500


def validate_customer(
    data: Any,
    *,
    partial: bool = False,
    default_region: str = "CN",
    stored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Normalise and validate a customer document; raises ValidationError with field details.

    ``stored`` (for a partial update: the record's current country, language, date of birth
    and national id) gives the locale to read phones and dates in, and the other half of the
    birth date / resident id check, when the update does not carry them itself.
    """
    stored = stored or {}
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    errors: list[dict[str, str]] = []
    for name in data:
        if name in READ_ONLY:
            errors.append({"field": name, "message": "is read-only"})
        elif name not in FIELDS:
            errors.append({"field": name, "message": "is not a known field"})
    country = _safe_country(data["country"] if "country" in data else stored.get("country"))
    language = data["language"] if "language" in data else stored.get("language")
    day_order = norm.month_first(country, _safe_language(language))
    steps: dict[str, Any] = {
        "external_ref": lambda v: norm.clean_text(v, max_length=128),
        "full_name": lambda v: norm.clean_text(v, max_length=200, required=not partial),
        "email": norm.normalise_email,
        "phone": lambda v: norm.normalise_phone(v, default_region, country),
        "date_of_birth": lambda v: norm.normalise_birth_date(v, month_first=day_order),
        "national_id": lambda v: norm.normalise_national_id(v, country),
        "address": norm.normalise_address,
        "country": norm.normalise_country,
        "subdivision": lambda v: norm.normalise_subdivision(v, country),
        "language": norm.normalise_language,
        "marketing": norm.normalise_marketing,
    }
    clean: dict[str, Any] = {}
    for name, step in steps.items():
        if partial and name not in data:
            continue
        try:
            clean[name] = step(data.get(name))
        except norm.FieldError as exc:
            errors.append({"field": name, "message": str(exc)})
    if partial and "country" in clean and "subdivision" not in data:
        held = stored.get("subdivision")
        if held and not (clean["country"] and held.startswith(f"{clean['country']}-")):
            errors.append(
                {
                    "field": "subdivision",
                    "message": f"{held} is not in the new country: send it too",
                }
            )
    if partial and "full_name" in clean and clean["full_name"] is None:
        errors.append({"field": "full_name", "message": "cannot be removed"})
    try:
        merged = {**stored, **clean} if {"date_of_birth", "national_id"} & set(clean) else {}
        norm.check_birth_date_matches_id(merged.get("date_of_birth"), merged.get("national_id"))
    except norm.FieldError as exc:
        errors.append({"field": "date_of_birth", "message": str(exc)})
    if errors:
        raise ValidationError("the customer has invalid fields", errors)
    return clean


def _safe_country(value: Any) -> str | None:
    try:
        return norm.normalise_country(value)
    except norm.FieldError:
        return None


def _safe_language(value: Any) -> str | None:
    try:
        return norm.normalise_language(value)
    except norm.FieldError:
        return None


@dataclass
class Lookup:
    """Blind-index values of one normalised customer, used for lookups and duplicates."""

    email: bytes | None
    phone: bytes | None
    national_id: bytes | None
    name_dob: bytes | None
    external_ref: bytes | None = None  # unique per customer: an update target, not a duplicate


def lookup_keys(call: Call, clean: dict[str, Any]) -> Lookup:
    """Blind indexes for a normalised customer."""
    vault = call.vault
    name_dob = None
    if clean.get("full_name") and clean.get("date_of_birth"):
        name_dob = vault.blind_index(
            "name_dob", f"{clean['full_name'].casefold()}|{clean['date_of_birth']}"
        )
    return Lookup(
        vault.blind_index("email", clean.get("email")),
        vault.blind_index("phone", clean.get("phone")),
        vault.blind_index("national_id", clean.get("national_id")),
        name_dob,
        vault.blind_index("external_ref", clean.get("external_ref")),
    )


def find_duplicate(call: Call, keys: Lookup, exclude: str | None = None) -> tuple[str, str] | None:
    """The id of an existing customer sharing email, phone, id number or name + birth date."""
    return _conflicts(call, keys, None, exclude)[0]


# Checked in this order: the first kind of match found is the one reported.
DUPLICATE_COLUMNS = (
    ("email", "email_bidx", "email"),
    ("phone", "phone_bidx", "phone"),
    ("national_id", "national_id_bidx", "national_id"),
    ("name_dob", "name_dob_bidx", "full_name+date_of_birth"),
)
_C = Customer.__table__.c
# Enough rows to see one of each kind of match: duplicates are refused on the way in, so only
# imported duplicate groups (services/customers/quality.py) ever hold more than one.
_MATCHES = 64


def _conflicts(
    call: Call, keys: Lookup, ref: str | None, exclude: str | None
) -> tuple[tuple[str, str] | None, str | None]:
    """One SELECT across every blind index (and the external reference): the duplicate found
    (id, reason) and the id already holding ``ref``, each None when there is none."""
    ref_bidx = call.vault.blind_index("external_ref", ref) if ref is not None else None
    wanted = [(getattr(keys, attr), column, reason) for attr, column, reason in DUPLICATE_COLUMNS]
    present = tuple(column for value, column, _ in wanted if value is not None)
    if not present and ref_bidx is None:
        return None, None
    params = {column: value for value, column, _ in wanted if value is not None}
    if ref_bidx is not None:
        params["external_ref_bidx"] = ref_bidx
    if exclude:
        params["exclude"] = exclude
    statement = _conflicts_statement(present, ref_bidx is not None, bool(exclude))
    rows = call.session.connection().execute(statement, params).all()
    duplicate = None
    for position, (value, _, reason) in enumerate(wanted, start=1):
        found = next((r[0] for r in rows if value is not None and r[position] == value), None)
        if found is not None:
            duplicate = (found, reason)
            break
    holder = next((r[0] for r in rows if ref_bidx is not None and r[-1] == ref_bidx), None)
    return duplicate, holder


@functools.lru_cache(maxsize=64)
def _conflicts_statement(columns: tuple[str, ...], ref: bool, exclude: bool) -> Any:
    """The duplicate check's SELECT for the blind indexes present (and the external reference,
    and an excluded id), built once per shape: the values are bound at execution, each under
    its column's name, so no request builds the statement or its cache key again."""
    conditions = [_C[column] == bindparam(column, type_=_C[column].type) for column in columns]
    if ref:
        conditions.append(_C.external_ref_bidx == bindparam("external_ref_bidx"))
    query = select(_C.id, *(_C[c] for _, c, _ in DUPLICATE_COLUMNS), _C.external_ref_bidx)
    query = query.where(or_(*conditions))
    if exclude:
        query = query.where(_C.id != bindparam("exclude"))
    return query.limit(_MATCHES)


def protected_values(
    call: Call, customer_id: str, clean: dict[str, Any], key: Any, lookup: Lookup
) -> dict[str, Any]:
    """Column values for normalised fields: ciphertext, blind indexes and clear columns."""
    vault = call.vault
    encrypted = vault.encrypted_fields(TABLE)
    values: dict[str, Any] = {}
    for name, value in clean.items():
        if name in encrypted:
            values[f"{name}_ct"] = vault.seal(key, TABLE, name, customer_id, value)
        elif name != "marketing":  # a view of the consent ledger (services/consent/marketing)
            values[name] = value
    for field in ("email", "phone", "national_id", "external_ref"):
        if field in clean:
            values[f"{field}_bidx"] = getattr(lookup, field)
    if "full_name" in clean or "date_of_birth" in clean:
        values["name_dob_bidx"] = lookup.name_dob
    return values


def apply_fields(
    call: Call, customer: Customer, clean: dict[str, Any], key: Any, lookup: Lookup | None = None
) -> None:
    """Write normalised values onto a customer row, encrypting the protected ones.

    ``lookup`` (the blind indexes of the merged record) is computed when not given.
    """
    if lookup is None:
        missing = [f for f in ("full_name", "date_of_birth") if f not in clean]
        current = decrypt_customer(call, customer, key, only=missing) if missing else {}
        lookup = lookup_keys(call, {**current, **clean})
    for column, value in protected_values(call, customer.id, clean, key, lookup).items():
        setattr(customer, column, value)


def decrypt_customer(
    call: Call, customer: Any, key: Any, only: Sequence[str] = FIELDS
) -> dict[str, Any]:
    """Plain values of a customer (in memory only)."""
    vault = call.vault
    encrypted = vault.encrypted_fields(TABLE)
    sealed = {name: getattr(customer, f"{name}_ct") for name in only if name in encrypted}
    opened = vault.open_row(key, TABLE, customer.id, sealed, STRUCTURED_FIELDS) if sealed else {}
    return {name: opened[name] if name in sealed else getattr(customer, name) for name in only}


def to_document(
    call: Call, customer: Customer, key: Any, only: Sequence[str] = FIELDS
) -> dict[str, Any]:
    """The JSON document of a customer, in clear (before masking). Only the fields in ``only``
    are decrypted; the others are None (the governed read leaves hidden fields undecrypted)."""
    values = decrypt_customer(call, customer, key, only)
    doc = {"id": customer.id, **{name: values.get(name) for name in FIELDS}}
    doc["marketing"] = doc.get("marketing") or {}
    doc["created_at"] = customer.created_at.isoformat().replace("+00:00", "Z")
    doc["updated_at"] = customer.updated_at.isoformat().replace("+00:00", "Z")
    return doc


def present(call: Call, doc: dict[str, Any], reveal: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Mask a document for the actor's roles; returns it and the per-field visibility."""
    return apply_visibility(call.actor.roles, doc, reveal=reveal)


def create_customer(call: Call, data: Any, *, reveal: bool = False) -> dict[str, Any]:
    """Validate, check for duplicates, encrypt and store a new customer.

    Two Core INSERTs (the row, its wrapped data key) and the queued audit entry: no ORM flush,
    and the answer is built from the validated values rather than decrypted back.
    """
    refuse_masks(data, {})
    clean = validate_customer(data, default_region=call.settings.get("DEFAULT_REGION", "CN"))
    lookup = lookup_keys(call, clean)
    refuse_conflicts(call, lookup, clean.get("external_ref"))
    now = call.now()
    customer_id = new_id()
    key, key_row = call.vault.new_subject_key(customer_id)
    values = protected_values(call, customer_id, clean, key, lookup)
    values["marketing"] = {}  # a view of the consent ledger, never stored as flags
    conn = call.session.connection()
    conn.execute(INSERT_CUSTOMER, {**values, "id": customer_id, "created_at": now,
                                   "updated_at": now})  # fmt: skip
    conn.execute(INSERT_KEY, {**key_row, "created_at": now})
    stamp = now.isoformat().replace("+00:00", "Z")
    doc = {"id": customer_id, **{name: clean.get(name) for name in FIELDS}}
    doc.update(marketing={}, created_at=stamp, updated_at=stamp)
    if clean.get("marketing"):
        doc["marketing"] = marketing.write(call, customer_id, {}, clean["marketing"], "app")
    doc, visibility = present(call, doc, reveal)
    call.audit.record(
        call.session,
        call.actor,
        "customer.create",
        now=now,
        resource=TABLE,
        subject_id=customer_id,
        details={"fields": sorted(k for k, v in clean.items() if v not in (None, {}))},
    )
    return doc


INSERT_CUSTOMER = Customer.__table__.insert()
INSERT_KEY = DataKey.__table__.insert()


def refuse_conflicts(
    call: Call, lookup: Lookup, ref: str | None, exclude: str | None = None
) -> None:
    """Raise Conflict when a unique value is taken, worded for what the caller may see.

    Both checks always run (in one statement), so neither the order of the checks nor which
    one matched shows in the answer to a caller that sees the compared fields masked
    (customer_disclosure.py).
    """
    found = []
    duplicate, holder = _conflicts(call, lookup, ref, exclude)
    if duplicate:
        found.append(f"a customer with the same {duplicate[1]} exists: {duplicate[0]}")
    if holder:
        found.append(f"external_ref is already used by customer {holder}")
    if found:
        compared = [name for name in ("email", "phone", "national_id") if getattr(lookup, name)]
        compared += ["full_name"] if lookup.name_dob else []
        compared += ["external_ref"] if ref is not None else []
        raise disclosure.conflict(call.actor, compared, found)


def load(call: Call, customer_id: str) -> Customer:
    """The customer row; NotFound (or 410 when erased)."""
    if not is_id(customer_id):
        raise NotFound("no customer with that id")
    customer = call.session.get(Customer, customer_id)
    if customer is None:
        if call.session.get(Tombstone, customer_id) is not None:
            raise SubjectErased(f"customer {customer_id} was erased")
        raise NotFound(f"no customer {customer_id}")
    return customer


def update_customer(call: Call, customer_id: str, data: Any) -> dict[str, Any]:
    """Apply a JSON Merge Patch (RFC 7396): nested objects merge, null removes a field.

    Raises ValidationError for invalid or masked values, NotFound, and Conflict.
    """
    region = call.settings.get("DEFAULT_REGION", "CN")
    if not isinstance(data, dict):
        validate_customer(data, partial=True, default_region=region)  # raises
    customer = load(call, customer_id)
    key = call.vault.subject_key(call.session, customer.id)
    wanted = {"full_name", *LOCALE_FIELDS} | {name for name in data if name in FIELDS}
    current = decrypt_customer(call, customer, key, sorted(wanted))
    before = marketing.views(call, [customer.id]).get(customer.id, {})
    current["marketing"] = before
    refuse_masks(data, current)
    clean = validate_customer(
        merge_nested(data, current),
        partial=True,
        default_region=region,
        stored={name: current[name] for name in LOCALE_FIELDS},
    )
    lookup = lookup_keys(call, {**current, **clean})
    # only the values this patch changes are checked: a patch of the language is not refused
    # for a name + birth date the record already had
    renamed = "full_name" in clean or "date_of_birth" in clean
    checked = lookup if renamed else dataclasses.replace(lookup, name_dob=None)
    refuse_conflicts(call, checked, clean.get("external_ref"), exclude=customer.id)
    apply_fields(call, customer, clean, key, lookup)
    customer.updated_at = call.now()
    call.session.flush()
    document = to_document(call, customer, key)
    document["marketing"] = before
    if "marketing" in clean:
        after = clean["marketing"] or {}
        document["marketing"] = marketing.write(call, customer.id, before, after, "app")
    doc, _ = present(call, document, False)
    call.audit.record(
        call.session,
        call.actor,
        "customer.update",
        now=call.now(),
        resource=TABLE,
        subject_id=customer.id,
        details={"fields": sorted(clean), "subfields": changed_subfields(current, clean)},
    )
    return doc


def erase_customer(call: Call, customer_id: str, request_ref: str | None = None) -> dict[str, Any]:
    """Crypto-shred a customer: delete its DEK and rows, keep a tombstone (id only).

    Raises UnderLegalHold (409, with the hold's reason) when a legal hold covers the customer.
    """
    from governance.services.retention.holds import refuse_if_held

    customer = load(call, customer_id)
    refuse_if_held(call, customer.id)
    ref = norm.clean_text(request_ref, max_length=200) if request_ref else None
    now = call.now()
    shred(call, customer, ref, now)
    call.audit.record(
        call.session,
        call.actor,
        "customer.erase",
        now=now,
        resource=TABLE,
        subject_id=customer_id,
        details={"request_ref": ref},
    )
    return {"id": customer_id, "erased_at": now.isoformat().replace("+00:00", "Z")}


def shred(call: Call, customer: Customer, request_ref: str | None, now: datetime) -> None:
    """Delete a customer's row and its data key, keep a tombstone (its id only): what is left
    of its ciphertext anywhere can no longer be decrypted. The caller audits it."""
    call.session.delete(customer)
    key_row = call.session.get(DataKey, customer.id)
    if key_row is not None:
        call.session.delete(key_row)
    call.session.add(Tombstone(subject_id=customer.id, erased_at=now, request_ref=request_ref))
    call.session.flush()


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a cursor points after; MalformedRequest when it was not made by us."""
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MalformedRequest("cursor is not valid") from None
    if not is_id(value):
        raise MalformedRequest("cursor is not valid")
    return value
