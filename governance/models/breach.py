"""Breach response: incidents, their timeline, notification tasks, affected subjects, notices.

The affected subjects of an incident are kept as ids only; the notices generated for them are
stored as ciphertext under each customer's own data key (erasing the customer shreds them too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from governance.models.base import Base
from governance.models.ids import UTCDateTime, new_id, utcnow

INCIDENT_STATES = ("detected", "triage", "contained", "assessed", "notified", "closed")


class Incident(Base):
    """A personal-data breach (GDPR Art. 33(5): every breach is documented, notified or not)."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="detected", index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the company became aware: the legal clocks start here (GDPR Art. 33(1))."""
    systems: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    encrypted_exposed: Mapped[bool] = mapped_column(default=False)
    keys_exposed: Mapped[bool] = mapped_column(default=False)
    harm_mitigated: Mapped[bool] = mapped_column(default=False)
    risk: Mapped[str | None] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(Text, default="")
    containment: Mapped[str] = mapped_column(Text, default="")
    consequences: Mapped[str] = mapped_column(Text, default="")
    measures_proposed: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    dpo_contact: Mapped[str] = mapped_column(Text, default="")
    approx_records: Mapped[int | None] = mapped_column(BigInteger)
    freeze_downloads: Mapped[bool] = mapped_column(default=False)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The last affected-subject analysis: scope, counts, note (ids live in incident_subjects)."""
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentEvent(Base):
    """One line of an incident's timeline: a transition, a containment action, a task done."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NotificationTask(Base):
    """A notice a rule of ``breach_rules.yaml`` requires: one per (incident, regime, target)."""

    __tablename__ = "notification_tasks"
    __table_args__ = (UniqueConstraint("incident_id", "regime", "target", name="uq_task_rule"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    regime: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="open")
    """open | done | waived (no longer required: ``waived_reason`` says why)."""
    subjects: Mapped[int] = mapped_column(Integer, default=0)
    waived_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(Text)
    late_reasons: Mapped[str | None] = mapped_column(Text)
    completed_by: Mapped[str | None] = mapped_column(String(64))


class IncidentSubject(Base):
    """An affected customer of an incident (id only) and how readable its data was."""

    __tablename__ = "incident_subjects"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    readability: Mapped[str] = mapped_column(String(16))
    """clear | masked | hidden | encrypted (at rest, keys not exposed): the best the actor got."""
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)


class BreachNotice(Base):
    """A generated notice to one affected person, sealed under that person's data key."""

    __tablename__ = "breach_notices"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    pdf_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
