"""Reading the store for PII scans: every text column, decrypted in memory only.

Records are read in id order, ``READ_BATCH`` at a time, with the batch's data keys unwrapped in
one query (``reads.subject_keys``: the governed pipeline's key step, under the system
purpose ``pii_scan``). Values never leave memory: they go to the detector and are
dropped. A field that fails to decrypt (or whose subject has no key) is counted, not scanned,
so its earlier findings keep their status.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from governance.context import Call
from governance.services.customers import reads
from governance.services.keys.vault import DataUnavailable
from governance.services.pii.findings import MODELS

log = logging.getLogger(__name__)

# Every text column of the store; JSON columns (address, items) are scanned as their values.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("full_name", "email", "phone", "national_id", "address", "external_ref"),
    "orders": ("comment", "items"),
    "interactions": ("note", "channel"),
}
STRUCTURED = {("customers", "address"), ("orders", "items")}
READ_BATCH = 500  # rows read (and data keys unwrapped) per query
Key = tuple[str, str, str, str | None]  # table, column, record id, subject id
PURPOSE = "pii_scan"  # the system purpose of a scan's reads (policies/purposes.yaml)
UNREADABLE = object()  # a field that failed to decrypt or whose data key is gone


def _batches(call: Call, table: str, since: datetime | None) -> Iterator[list[Any]]:
    model = MODELS[table]
    last: str | None = None
    while True:
        query = select(model).order_by(model.id).limit(READ_BATCH)
        if since is not None:
            query = query.where(model.updated_at >= since)
        if last is not None:
            query = query.where(model.id > last)
        rows = list(call.session.scalars(query))
        if not rows:
            return
        last = rows[-1].id
        yield rows


def as_text(value: Any) -> str | None:
    """A column value as scannable text: JSON objects as their values, lists one per line."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        parts = [as_text(v) for v in value.values()]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, list):
        parts = [as_text(v) for v in value]
        return "\n".join(p for p in parts if p) or None
    return str(value)


class StoreReader:
    """The texts of the store's records, decrypted in memory, one batch at a time."""

    def __init__(self, call: Call, since: datetime | None) -> None:
        self.call = reads.internal(call, PURPOSE)
        self.since = since
        self.records: dict[str, int] = {}
        self.texts = 0
        self.unreadable = 0

    def total(self) -> int:
        """Records the scan will read."""
        count = 0
        for table in TEXT_COLUMNS:
            model = MODELS[table]
            query = select(func.count()).select_from(model)
            if self.since is not None:
                query = query.where(model.updated_at >= self.since)
            count += self.call.session.scalar(query) or 0
        return count

    def items(self) -> Iterator[tuple[Key, str | None]]:
        """``((table, column, record id, subject id), text)`` for every scanned column."""
        for table, columns in TEXT_COLUMNS.items():
            for rows in _batches(self.call, table, self.since):
                # Materialised per batch: progress commits expire ORM rows between yields.
                yield from self._batch(table, columns, rows)

    def _batch(
        self, table: str, columns: tuple[str, ...], rows: list[Any]
    ) -> list[tuple[Key, str | None]]:
        vault = self.call.vault
        owner = "id" if table == "customers" else "customer_id"

        def subject_of(row: Any) -> str:
            return str(getattr(row, owner))

        keys = reads.subject_keys(self.call, {subject_of(r) for r in rows})
        encrypted = vault.encrypted_fields(table)
        out: list[tuple[Key, str | None]] = []
        for row in rows:
            subject = subject_of(row)
            for column in columns:
                value = (
                    self._open(table, column, row, subject, keys.get(subject))
                    if column in encrypted
                    else getattr(row, column)
                )
                if value is UNREADABLE:
                    # Not scanned, so its earlier findings are neither confirmed nor remediated.
                    continue
                text = as_text(value)
                self.texts += text is not None
                out.append(((table, column, row.id, subject), text))
            self.records[table] = self.records.get(table, 0) + 1
        return out

    def _open(self, table: str, column: str, row: Any, subject: str, key: Any) -> Any:
        blob = getattr(row, f"{column}_ct")
        if blob is None:
            return None
        if key is None:
            self.unreadable += 1
            return UNREADABLE
        row_id = None if table == "customers" else row.id
        try:
            return self.call.vault.open(
                key, table, column, subject, blob, (table, column) in STRUCTURED, row_id=row_id
            )
        except DataUnavailable:
            log.warning("pii scan: %s.%s of record %s failed to decrypt", table, column, row.id)
            self.unreadable += 1
            return UNREADABLE
