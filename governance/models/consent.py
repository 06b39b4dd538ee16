"""The consent ledger: privacy notices, consent events, objections and restrictions.

All three are append-only (database triggers refuse UPDATE and DELETE, as for the audit log):
the current state of a consent is derived from its events, never stored as a flag; the
database keeps each (customer, purpose)'s latest effective event in ``consent_current`` for the
purpose check (a projection written only by its trigger on ``consent_events``). Rows hold
ids and codes only, no personal data, so erasing a customer leaves its ledger as evidence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.models.base import Base
from governance.models.ids import UTCDateTime, new_id, utcnow

SEQ = BigInteger().with_variant(Integer, "sqlite")


class Notice(Base):
    """One version of the privacy notice: what it asks consent for, its text hash, from when."""

    __tablename__ = "consent_notices"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    text_sha256: Mapped[str] = mapped_column(String(64))
    lifetime_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticePurpose(Base):
    """A purpose a notice asks consent for; ``widens`` when it adds or widens the purpose
    compared with the notice before (consents given earlier then need re-consent)."""

    __tablename__ = "consent_notice_purposes"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    widens: Mapped[bool] = mapped_column(Boolean, default=False)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_consent_notice_purposes_widening", "purpose", "effective_at"),)


class ConsentEvent(Base):
    """One consent event: granted, withdrawn or refused, by whom, how, under which notice."""

    __tablename__ = "consent_events"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    purpose: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    # False for a withdrawal of a consent that was not granted: recorded, state unchanged.
    effective: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(16))
    notice_version: Mapped[str | None] = mapped_column(String(32))
    # The notice's effective date, copied at recording: a later notice widening the purpose
    # makes this grant "re-consent needed" (compared in SQL, no join).
    notice_effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    audit_qid: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_consent_events_subject", "customer_id", "purpose", "seq"),)


class ConsentCurrent(Base):
    """The latest effective event of one (customer, purpose): a projection of the ledger that
    only the database's trigger on ``consent_events`` writes (migration 0020), read by the
    purpose check and the totals. The state it shows is still derived at read time (expiry,
    re-consent after a widening notice)."""

    __tablename__ = "consent_current"

    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ)
    action: Mapped[str] = mapped_column(String(16))
    notice_effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "ix_consent_current_notice", "purpose", "action", "notice_effective_at", "expires_at"
        ),
        Index("ix_consent_current_expiry", "purpose", "action", "expires_at"),
    )


class ObjectionEvent(Base):
    """An objection to a purpose (GDPR Art. 21) or a restriction of processing (Art. 18),
    recorded or lifted; ``purpose`` None objects to every objectable purpose."""

    __tablename__ = "consent_objections"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    request_ref: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    audit_qid: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_consent_objections_subject", "customer_id", "seq"),)
