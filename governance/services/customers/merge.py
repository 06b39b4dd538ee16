"""Merging a duplicate customer into the one that is kept.

The duplicate (``source``) gives the kept customer (``target``) every field the target lacks;
where both hold a value the target's wins. The source's orders and interactions move to the
target, re-encrypted under the target's data key (the associated data binds each ciphertext to
its subject, so a moved row must be sealed again). The source is then erased as any subject is:
its data key destroyed, its row deleted, a tombstone kept.

The audit log keeps every source value's fate without a value in clear: each source field is
named as taken, equal or discarded, and the moved records by id, in one ``customer.merge`` entry
on the target and one ``customer.erase`` entry on the source, in the same transaction.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Interaction, Order
from governance.services.consent import marketing
from governance.services.customers import normalise as norm
from governance.services.customers import reads
from governance.services.customers import store as cs
from governance.services.keys.vault import DataUnavailable

EMPTY: tuple[Any, ...] = (None, "", {}, [])
PURPOSE = "merge"  # the system purpose of a merge's reads (policies/purposes.yaml)


def merge_customers(
    call: Call, source_id: str, target_id: str, request_ref: str | None = None
) -> dict[str, Any]:
    """Merge customer ``source_id`` into ``target_id`` and erase the source (caller commits).

    Raises NotFound / SubjectErased for an unknown or erased id, ValidationError when both ids
    are the same.
    """
    if source_id == target_id:
        raise ValidationError(
            "a customer cannot be merged into itself",
            [{"field": "target", "message": "must differ from the source"}],
        )
    ref = norm.clean_text(request_ref, max_length=200) if request_ref else None
    call = reads.internal(call, PURPOSE)
    source, target = cs.load(call, source_id), cs.load(call, target_id)
    keys = reads.subject_keys(call, [source.id, target.id])
    source_key, target_key = _key(keys, source.id), _key(keys, target.id)
    # Marketing flags are a view of each customer's consent ledger (services/consent).
    flags = marketing.views(call, [source.id, target.id])
    fate = _field_fates(
        {**cs.decrypt_customer(call, source, source_key), "marketing": flags.get(source.id, {})},
        {**cs.decrypt_customer(call, target, target_key), "marketing": flags.get(target.id, {})},
    )
    moved = _move_records(call, source.id, target.id, source_key, target_key)
    now = call.now()
    cs.shred(call, source, ref or f"merged into {target.id}", now)  # frees its external_ref
    if fate.taken:
        cs.apply_fields(call, target, fate.taken, target_key)
    target.updated_at = now
    call.session.flush()
    summary = {
        "merged_from": source.id,
        "fields_taken": sorted(fate.taken),
        "fields_equal": sorted(fate.equal),
        "fields_discarded": fate.discarded,
        **moved,
        "request_ref": ref,
    }
    call.audit.record(
        call.session, call.actor, "customer.merge", now=now, resource=cs.TABLE,
        subject_id=target.id, purpose=call.purpose_name, details=summary,
    )  # fmt: skip
    call.audit.record(
        call.session, call.actor, "customer.erase", now=now, resource=cs.TABLE,
        subject_id=source.id, purpose=call.purpose_name,
        details={"request_ref": ref, "merged_into": target.id},
    )  # fmt: skip
    return {"id": target.id, **summary}


def _key(keys: dict[str, Any], subject_id: str) -> Any:
    if subject_id not in keys:
        raise DataUnavailable(f"no data key for subject {subject_id}")
    return keys[subject_id]


class _Fates:
    """What happens to each source field: taken onto the target, equal, or discarded."""

    def __init__(self) -> None:
        self.taken: dict[str, Any] = {}
        self.equal: list[str] = []
        self.discarded: list[str] = []


def _field_fates(source: dict[str, Any], target: dict[str, Any]) -> _Fates:
    fate = _Fates()
    for name in cs.FIELDS:
        mine, theirs = source.get(name), target.get(name)
        if mine in EMPTY:
            continue
        if theirs in EMPTY and name != "marketing":
            fate.taken[name] = mine
        elif mine == theirs:
            fate.equal.append(name)
        else:  # consent is never carried over: the kept customer's own ledger stands
            fate.discarded.append(name)
    # The kept record stays consistent: a taken birth date or id number that disagrees with the
    # target's other half (GB 11643) is discarded rather than written.
    merged = {**target, **fate.taken}
    try:
        norm.check_birth_date_matches_id(merged.get("date_of_birth"), merged.get("national_id"))
    except norm.FieldError:
        for name in ("date_of_birth", "national_id"):
            if name in fate.taken:
                del fate.taken[name]
                fate.discarded.append(name)
    fate.discarded.sort()
    return fate


def _move_records(
    call: Call, source_id: str, target_id: str, source_key: Any, target_key: Any
) -> dict[str, list[str]]:
    """Re-home the source's orders and interactions, sealed again for the target."""
    vault = call.vault
    moved: dict[str, list[str]] = {"orders": [], "interactions": []}
    # table -> (model, [(column, sealed field name, structured)]): every sealed column of a row,
    # the PII spans beside its free text included (records.py seals them under the text's name)
    sealed: dict[str, tuple[type[Order] | type[Interaction], tuple[tuple[str, str, bool], ...]]] = {
        "orders": (
            Order,
            (
                ("comment_ct", "comment", False),
                ("items_ct", "items", True),
                ("comment_spans", "comment_spans", False),
            ),
        ),
        "interactions": (
            Interaction,
            (("note_ct", "note", False), ("note_spans", "note_spans", False)),
        ),
    }
    for table, (model, columns) in sealed.items():
        query = select(model).where(model.customer_id == source_id)
        rows = cast("list[Order | Interaction]", list(call.session.scalars(query)))
        for row in rows:
            for column, name, structured in columns:
                blob = getattr(row, column)
                value = vault.open(source_key, table, name, source_id, blob, structured, row.id)
                blob = vault.seal(target_key, table, name, target_id, value, row_id=row.id)
                setattr(row, column, blob)
            row.customer_id = target_id
            moved[table].append(row.id)
    call.session.flush()
    return moved
