"""The customer store: customers, orders, interactions, their data keys and erasure tombstones.

Sensitive fields exist here only as ciphertext (``*_ct`` columns, see services/keys/vault.py)
plus blind indexes (``*_bidx``) for exact lookups; no column ever holds the plaintext.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from governance.models.base import Base
from governance.models.ids import UTCDateTime, new_id, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Clear values from before revision 0003: encrypted into external_ref_ct and emptied when
    # the server starts (services/customers/legacy_fields.py); never written otherwise.
    external_ref_legacy: Mapped[str | None] = mapped_column(String(128), unique=True)
    external_ref_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    full_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    date_of_birth_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    national_id_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    phone_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    national_id_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    name_dob_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    external_ref_bidx: Mapped[bytes | None] = mapped_column(
        LargeBinary(16), unique=True, index=True
    )
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    # ISO 3166-2 (US-CA, CN-BJ): decides which legal regimes apply (jurisdictions.yaml).
    subdivision: Mapped[str | None] = mapped_column(String(6))
    language: Mapped[str | None] = mapped_column(String(35))
    marketing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    orders: Mapped[list[Order]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    # Clear items from before revision 0003 (see Customer.external_ref_legacy); new rows: [].
    items_legacy: Mapped[list[Any]] = mapped_column(JSON, default=list)
    items_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    comment_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Sealed JSON of the PII spans (types, offsets) found in the comment on write: records.py.
    comment_spans: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    customer: Mapped[Customer] = relationship(back_populates="orders")


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Sealed JSON of the PII spans (types, offsets) found in the note on write: records.py.
    note_spans: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    customer: Mapped[Customer] = relationship(back_populates="interactions")


class DataKey(Base):
    """A data subject's DEK, stored only wrapped by a KEK version."""

    __tablename__ = "data_keys"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(8), unique=True)
    kek_version: Mapped[int] = mapped_column(Integer, index=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KeyVersion(Base):
    """A KEK version known to this database: its public fingerprint, never the key."""

    __tablename__ = "key_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    index_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Tombstone(Base):
    """Proof that a subject was erased: the id, when and why; no personal data."""

    __tablename__ = "tombstones"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_ref: Mapped[str | None] = mapped_column(Text)
