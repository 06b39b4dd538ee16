"""SQLAlchemy models: columns and invariants only, no business rules."""

from __future__ import annotations

from governance.models.audit import AuditCheckpoint, AuditEntry, AuditNode, AuditState
from governance.models.customer import Customer, DataKey, Interaction, KeyVersion, Order, Tombstone
from governance.models.identity import (
    ApiToken,
    CasbinRule,
    PasswordHistory,
    ServiceAccount,
    User,
)
from governance.models.ids import new_id
from governance.models.job import Job

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditNode",
    "AuditState",
    "CasbinRule",
    "Customer",
    "DataKey",
    "Interaction",
    "Job",
    "KeyVersion",
    "Order",
    "PasswordHistory",
    "ServiceAccount",
    "Tombstone",
    "User",
    "new_id",
]
