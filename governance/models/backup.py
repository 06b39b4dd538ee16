"""Backup verifications: one row per attempt to prove a backup restores.

A row is inserted as ``running`` and committed before any work, and only the end of a
verification sets ``passed`` or ``failed``: a verification killed halfway stays ``running`` (shown
as interrupted), never as passed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.models.base import Base
from governance.models.ids import UTCDateTime, new_id, utcnow

VERIFICATION_STATES = ("running", "passed", "failed")


class BackupVerification(Base):
    __tablename__ = "backup_verifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    backup_id: Mapped[str | None] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(16), default="scratch")
    """``scratch`` (restored by the verifier) or ``external`` (``verify --database``)."""
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    failed_check: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tree_size: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
