"""PDF reports of the governance server: pure functions, plain data in, PDF bytes out (reportlab).

One module per report; :mod:`reports.style` holds the shared document style. Nothing here imports
``governance``: the services fill the input dataclasses from the database.
"""

from __future__ import annotations

from reports.audit_trail import (
    AuditEntryRow,
    AuditTrailReport,
    CheckpointRef,
    VerificationResult,
    build_audit_trail_report,
)
from reports.data_inventory import DataInventory, FieldInventory, build_data_inventory_report
from reports.pii_discovery import (
    InventoryRow,
    OpenItem,
    PiiDiscoveryReport,
    TrendRow,
    build_pii_discovery_report,
)
from reports.style import ReportDataError

__all__ = [
    "AuditEntryRow",
    "AuditTrailReport",
    "CheckpointRef",
    "DataInventory",
    "FieldInventory",
    "InventoryRow",
    "OpenItem",
    "PiiDiscoveryReport",
    "ReportDataError",
    "TrendRow",
    "VerificationResult",
    "build_audit_trail_report",
    "build_data_inventory_report",
    "build_pii_discovery_report",
]
