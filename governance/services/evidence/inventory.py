"""The data inventory: which fields the store holds, how complete, which are sensitive/encrypted.

Counts come from SQL over ciphertext presence (nothing is decrypted); the classification comes
from ``policies/fields.yaml``. ``data_inventory_pdf`` renders it with ``reports`` and audits the
download.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from governance.context import Call
from governance.models import Customer, Interaction, Order
from governance.services.evidence.downloads import record_download
from reports import DataInventory, FieldInventory, build_data_inventory_report

MODELS = {"customers": Customer, "orders": Order, "interactions": Interaction}


def _column(model: type, name: str):  # type: ignore[no-untyped-def]
    return getattr(model, f"{name}_ct") if hasattr(model, f"{name}_ct") else getattr(model, name)


def database_label(url: str) -> str:
    """A database description without credentials."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database}"
    return f"PostgreSQL {parsed.database}@{parsed.host or 'localhost'}"


def collect(call: Call, database_url: str) -> DataInventory:
    """Measure the inventory now."""
    session = call.session
    totals = {
        table: session.scalar(select(func.count()).select_from(model)) or 0
        for table, model in MODELS.items()
    }
    fields = []
    for (table, name), rule in sorted(call.vault.rules.items()):
        model = MODELS[table]
        filled = session.scalar(select(func.count(_column(model, name)))) or 0
        if table == "customers" and name == "marketing":
            filled = totals[table]
        total = totals[table]
        fields.append(
            FieldInventory(
                table=table,
                field=name,
                sensitive=rule.sensitive,
                encrypted=rule.encrypted,
                completeness=round(filled / total, 4) if total else 0.0,
                filled=filled,
            )
        )
    return DataInventory(
        generated_at=call.now(),
        database=database_label(database_url),
        total_customers=totals["customers"],
        total_orders=totals["orders"],
        total_interactions=totals["interactions"],
        fields=fields,
    )


def data_inventory_pdf(call: Call, database_url: str) -> bytes:
    """The data-inventory report as PDF bytes; the download is audited."""
    pdf = build_data_inventory_report(collect(call, database_url))
    return record_download(call, "data-inventory", pdf)
