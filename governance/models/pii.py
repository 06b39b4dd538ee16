"""PII discovery: store scans (with their data inventory) and the findings they record.

A finding locates personal data by table, column, record, entity type and character offsets,
with the detector's score; it never holds the matched value. Its identity (table, column,
record, entity type, start offset) is unique, so a rescan updates the same row and a reviewer's
decision survives rescans.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from governance.models.base import Base
from governance.models.ids import UTCDateTime, new_id, utcnow

SCAN_MODES = ("full", "incremental")
SCAN_STATES = ("running", "succeeded", "failed")
FINDING_STATUSES = ("open", "confirmed", "false_positive", "remediated")
ACTIVE_STATUSES = ("open", "confirmed")  # the data is (still) there


class PiiScan(Base):
    """One scan of the store: its scope, counts and the inventory it produced."""

    __tablename__ = "pii_scans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="running", index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    records_scanned: Mapped[int] = mapped_column(Integer, default=0)
    texts_scanned: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(64))
    # counts only: {"observed": {type: n}, "new": n, "remediated": n, "reopened": n, ...}
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"table", "column", "records_total", "records_scanned", "entities": {type: {...}}}]
    inventory: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class PiiFinding(Base):
    """Where a scan found one entity; never the value itself."""

    __tablename__ = "pii_findings"
    __table_args__ = (
        UniqueConstraint(
            "table_name",
            "column_name",
            "record_id",
            "entity_type",
            "start_offset",
            name="uq_pii_findings_identity",
        ),
        Index("ix_pii_findings_table_record", "table_name", "record_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    table_name: Mapped[str] = mapped_column(String(32))
    column_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(36))
    subject_id: Mapped[str | None] = mapped_column(String(36), index=True)
    entity_type: Mapped[str] = mapped_column(String(32), index=True)
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    # True when policies/fields.yaml expects this entity type in this column
    declared: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    first_scan_id: Mapped[str] = mapped_column(String(36))
    last_scan_id: Mapped[str] = mapped_column(String(36))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
