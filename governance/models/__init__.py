"""SQLAlchemy models: columns and invariants only, no business rules."""

from __future__ import annotations

from governance.models.audit import (
    AuditCheckpoint,
    AuditEntry,
    AuditNode,
    AuditQueued,
    AuditState,
    AuditSubject,
)
from governance.models.backup import BackupVerification
from governance.models.breach import (
    BreachNotice,
    Incident,
    IncidentEvent,
    IncidentSubject,
    NotificationTask,
)
from governance.models.consent import (
    ConsentCurrent,
    ConsentEvent,
    Notice,
    NoticePurpose,
    ObjectionEvent,
)
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
from governance.models.job import Job, ScheduleSlot
from governance.models.pii import PiiFinding, PiiScan
from governance.models.requests import RequestEvent, RequestExport, SubjectRequest
from governance.models.retention import LegalHold, RetentionRemoval

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditNode",
    "AuditQueued",
    "AuditState",
    "AuditSubject",
    "BreachNotice",
    "BackupVerification",
    "CasbinRule",
    "ConsentCurrent",
    "ConsentEvent",
    "ConsoleSession",
    "Customer",
    "DataKey",
    "Incident",
    "IncidentEvent",
    "IncidentSubject",
    "Interaction",
    "Job",
    "KeyVersion",
    "Notice",
    "NoticePurpose",
    "ObjectionEvent",
    "LegalHold",
    "NotificationTask",
    "Order",
    "PasswordHistory",
    "PiiFinding",
    "PiiScan",
    "RequestEvent",
    "RequestExport",
    "RetentionRemoval",
    "ScheduleSlot",
    "ServiceAccount",
    "SubjectRequest",
    "Tombstone",
    "User",
    "new_id",
]
