"""Data-quality summary of the customer store: completeness, invalid values, duplicate groups.

Completeness and duplicate groups come from SQL alone (ciphertext presence and blind indexes);
invalid values need the stored values re-validated, which decrypts in memory batch by batch.
The summary is a read of customer data, so it is audited (field names and counts only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Customer
from governance.services.customers import reads
from governance.services.customers import store as cs

PURPOSE = "data_quality"  # the system purpose of this internal read (policies/purposes.yaml)

COLUMNS = {
    name: getattr(Customer, f"{name}_ct" if hasattr(Customer, f"{name}_ct") else name)
    for name in cs.FIELDS
}


def completeness(call: Call) -> tuple[int, dict[str, int]]:
    """Total customers and, per field, how many have a value."""
    session = call.session
    total = session.scalar(select(func.count()).select_from(Customer)) or 0
    filled: dict[str, int] = {}
    for name, column in COLUMNS.items():
        if name == "marketing":
            continue
        filled[name] = session.scalar(select(func.count(column))) or 0
    return total, filled


def duplicate_groups(call: Call, limit: int = 100) -> dict[str, Any]:
    """Groups of customers sharing a blind-indexed value, per kind."""
    out: dict[str, Any] = {}
    for kind in ("email", "phone", "national_id", "name_dob"):
        column = getattr(Customer, f"{kind}_bidx")
        groups = call.session.execute(
            select(column, func.count())
            .where(column.is_not(None))
            .group_by(column)
            .having(func.count() > 1)
            .limit(limit)
        ).all()
        listed = []
        for value, _count in groups:
            ids = call.session.scalars(select(Customer.id).where(column == value)).all()
            listed.append(sorted(ids))
        out[kind] = listed
    return out


def invalid_values(call: Call, batch: int = 500) -> dict[str, int]:
    """Stored values that fail today's validation, per field (decrypts in memory)."""
    call = reads.internal(call, PURPOSE)
    counts = {name: 0 for name in cs.FIELDS}
    region = call.settings.get("DEFAULT_REGION", "CN")
    last = ""
    while True:
        rows = list(
            call.session.scalars(
                select(Customer).where(Customer.id > last).order_by(Customer.id).limit(batch)
            )
        )
        if not rows:
            break
        keys = reads.subject_keys(call, [c.id for c in rows])
        for customer in rows:
            if customer.id not in keys:
                continue
            doc = cs.decrypt_customer(call, customer, keys[customer.id])
            try:
                cs.validate_customer(doc, default_region=region)
            except ValidationError as exc:
                for error in exc.errors:
                    if error["field"] in counts:
                        counts[error["field"]] += 1
        last = rows[-1].id
    return counts


def compute(call: Call) -> dict[str, Any]:
    """The full data-quality summary (not audited: see ``record_read``); decrypts everything."""
    total, filled = completeness(call)
    invalid = invalid_values(call)
    dupes = duplicate_groups(call)
    fields = {
        name: {
            "filled": count,
            "completeness": round(count / total, 4) if total else 0.0,
            "invalid": invalid.get(name, 0),
        }
        for name, count in filled.items()
    }
    return {
        "customers": total,
        "fields": fields,
        "duplicate_groups": {k: len(v) for k, v in dupes.items()},
        "duplicates": dupes,
    }


def record_read(call: Call, summary: dict[str, Any], job_id: str | None = None) -> None:
    """Audit that ``call.actor`` read a summary (field names and counts only), under the
    system purpose of the read."""
    call = reads.internal(call, PURPOSE)
    details: dict[str, Any] = {"fields": sorted(summary["fields"]), "total": summary["customers"]}
    if job_id:
        details["job_id"] = job_id
    call.audit.record(
        call.session,
        call.actor,
        "quality.summary",
        now=call.now(),
        resource="customers",
        purpose=call.purpose_name,
        details=details,
    )


def summary(call: Call) -> dict[str, Any]:
    """The full data-quality summary, computed now (audited)."""
    result = compute(call)
    record_read(call, result)
    return result
