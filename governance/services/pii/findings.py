"""PII findings: recording what a store scan saw, reviewing it, and the data inventory.

A finding is identified by (table, column, record, entity type, start offset), so a rescan updates
the same row and a reviewer's decision survives it. When a rescanned record no longer holds an
open or confirmed finding, the finding becomes ``remediated``; a remediated finding that is seen
again is reopened. Whether a finding is in a *declared* place comes from ``expected_pii`` in
``policies/fields.yaml`` (GDPR Art. 30: know where personal data actually is). Findings never
carry the matched value, only its location and the detector's score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from governance.context import Call
from governance.errors import GovernanceError
from governance.models import Customer, Interaction, Order, PiiFinding, PiiScan
from governance.models.pii import ACTIVE_STATUSES
from governance.policyfiles import FieldRule

MODELS: dict[str, Any] = {"customers": Customer, "orders": Order, "interactions": Interaction}
SCAN_REVIEWER = "system:pii-scan"  # reviewed_by of findings a rescan found gone
Expected = Mapping[tuple[str, str], frozenset[str]]


def expected_types(
    rules: Mapping[tuple[str, str], FieldRule],
) -> dict[tuple[str, str], frozenset[str]]:
    """``{(table, column): entity types declared there}``; unknown type names are refused."""
    from governance.services.pii.detection.catalogue import KNOWN_ENTITIES

    out: dict[tuple[str, str], frozenset[str]] = {}
    for place, rule in rules.items():
        unknown = sorted(set(rule.expected_pii) - set(KNOWN_ENTITIES))
        if unknown:
            raise GovernanceError(
                f"policies/fields.yaml: {place[0]}.{place[1]}.expected_pii names unknown "
                f"entity type {unknown[0]}"
            )
        out[place] = frozenset(rule.expected_pii)
    return out


@dataclass
class ScannedRecord:
    """The findings of one record's scanned columns, as the scanner returned them."""

    table: str
    record_id: str
    subject_id: str | None
    columns: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Recorder:
    """Upserts the findings of scanned records and counts what changed (counts only)."""

    call: Call
    scan: PiiScan
    expected: Expected
    observed: Counter[str] = field(default_factory=Counter)
    new: int = 0
    remediated: int = 0
    reopened: int = 0

    def record(self, records: list[ScannedRecord]) -> None:
        """Write the findings of ``records`` (one query per table to load what exists)."""
        by_table: dict[str, list[ScannedRecord]] = {}
        for rec in records:
            by_table.setdefault(rec.table, []).append(rec)
        for table, recs in by_table.items():
            existing = self._existing(table, [r.record_id for r in recs])
            for rec in recs:
                self._apply(rec, existing.get(rec.record_id, {}))
        self.call.session.flush()

    def _existing(self, table: str, ids: list[str]) -> dict[str, dict[tuple[Any, ...], PiiFinding]]:
        found: dict[str, dict[tuple[Any, ...], PiiFinding]] = {}
        for start in range(0, len(ids), 500):
            rows = self.call.session.scalars(
                select(PiiFinding).where(
                    PiiFinding.table_name == table,
                    PiiFinding.record_id.in_(ids[start : start + 500]),
                )
            )
            for row in rows:
                key = (row.column_name, row.entity_type, row.start_offset)
                found.setdefault(row.record_id, {})[key] = row
        return found

    def _apply(self, rec: ScannedRecord, existing: dict[tuple[Any, ...], PiiFinding]) -> None:
        now = self.call.now()
        seen: set[tuple[Any, ...]] = set()
        for column, findings in rec.columns.items():
            declared = self.expected.get((rec.table, column), frozenset())
            for f in findings:
                key = (column, f.entity_type, f.start)
                if key in seen:
                    continue
                seen.add(key)
                self.observed[f.entity_type] += 1
                row = existing.get(key)
                if row is None:
                    row = PiiFinding(
                        table_name=rec.table,
                        column_name=column,
                        record_id=rec.record_id,
                        entity_type=f.entity_type,
                        start_offset=f.start,
                        status="open",
                        first_scan_id=self.scan.id,
                        first_seen_at=now,
                    )
                    self.call.session.add(row)
                    self.new += 1
                elif row.status == "remediated":
                    row.status, row.reviewed_by, row.reviewed_at = "open", None, None
                    self.reopened += 1
                row.subject_id = rec.subject_id
                row.end_offset, row.score = f.end, float(f.score)
                row.declared = f.entity_type in declared
                row.last_scan_id, row.last_seen_at = self.scan.id, now
        for key, row in existing.items():
            if key not in seen and key[0] in rec.columns and row.status in ACTIVE_STATUSES:
                self._remediate(row, now)

    def _remediate(self, row: PiiFinding, now: datetime) -> None:
        row.status, row.reviewed_by, row.reviewed_at = "remediated", SCAN_REVIEWER, now
        self.remediated += 1

    def sweep_deleted(self) -> None:
        """Findings of records that no longer exist (erased subjects, deleted rows) are gone."""
        for table, model in MODELS.items():
            result = self.call.session.execute(
                update(PiiFinding)
                .where(
                    PiiFinding.table_name == table,
                    PiiFinding.status.in_(ACTIVE_STATUSES),
                    PiiFinding.record_id.not_in(select(model.id)),
                )
                .values(status="remediated", reviewed_by=SCAN_REVIEWER, reviewed_at=self.call.now())
                .execution_options(synchronize_session=False)
            )
            self.remediated += getattr(result, "rowcount", 0) or 0


def active_counts(call: Call, undeclared_only: bool = False) -> dict[str, int]:
    """``{entity type: open or confirmed findings}`` across the store."""
    query = (
        select(PiiFinding.entity_type, func.count())
        .where(PiiFinding.status.in_(ACTIVE_STATUSES))
        .group_by(PiiFinding.entity_type)
    )
    if undeclared_only:
        query = query.where(PiiFinding.declared.is_(False))
    return {name: int(n) for name, n in sorted(call.session.execute(query).all())}


def inventory(
    call: Call, columns: Mapping[str, Iterable[str]], scanned: Mapping[str, int], expected: Expected
) -> list[dict[str, Any]]:
    """Per table and column: records in the store, records this scan read, and per entity type
    how many records hold it (open or confirmed findings) and their share."""
    session = call.session
    totals = {
        t: session.scalar(select(func.count()).select_from(m)) or 0 for t, m in MODELS.items()
    }
    holders = session.execute(
        select(
            PiiFinding.table_name,
            PiiFinding.column_name,
            PiiFinding.entity_type,
            func.count(PiiFinding.record_id.distinct()),
        )
        .where(PiiFinding.status.in_(ACTIVE_STATUSES))
        .group_by(PiiFinding.table_name, PiiFinding.column_name, PiiFinding.entity_type)
    ).all()
    held: dict[tuple[str, str], dict[str, int]] = {}
    for table, column, entity, count in holders:
        held.setdefault((table, column), {})[entity] = int(count)
    rows = []
    for table, names in columns.items():
        total = totals.get(table, 0)
        for column in names:
            entities = {
                entity: {
                    "records": count,
                    "share": round(count / total, 4) if total else 0.0,
                    "declared": entity in expected.get((table, column), frozenset()),
                }
                for entity, count in sorted(held.get((table, column), {}).items())
            }
            rows.append(
                {
                    "table": table,
                    "column": column,
                    "records_total": total,
                    "records_scanned": scanned.get(table, 0),
                    "entities": entities,
                }
            )
    return rows
