"""SQLAlchemy models: columns and invariants only, no business rules."""

from __future__ import annotations

from governance.models.audit import (
    AuditCheckpoint,
    AuditEntry,
    AuditNode,
    AuditQueued,
    AuditState,
)
from governance.models.backup import BackupVerification
from governance.models.customer import Customer, DataKey, Interaction, KeyVersion, Order, Tombstone
from governance.models.identity import (
    ApiToken,
    CasbinRule,
    ConsoleSession,
    PasswordHistory,
    ServiceAccount,
    User,
)
from governance.models.ids import new_id
from governance.models.job import Job
from governance.models.pii import PiiFinding, PiiScan

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditNode",
    "AuditQueued",
    "AuditState",
    "BackupVerification",
    "CasbinRule",
    "ConsoleSession",
    "Customer",
    "DataKey",
    "Interaction",
    "Job",
    "KeyVersion",
    "Order",
    "PasswordHistory",
    "PiiFinding",
    "PiiScan",
    "ServiceAccount",
    "Tombstone",
    "User",
    "new_id",
]
