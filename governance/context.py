"""The plain arguments every service call receives: who acts, on which session, with which keys.

Front ends (API, console, CLI, tests) build a ``Call`` and pass it to service functions; services
never read Flask's request or globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from audit.entry import ActorType
from governance.errors import ValidationError

if TYPE_CHECKING:
    from governance.services.auditlog.append import AuditLog
    from governance.services.keys.vault import Vault


@dataclass(frozen=True)
class Actor:
    """The principal performing an action, plus where the request came from."""

    id: str | None
    type: ActorType
    roles: tuple[str, ...] = ()
    request_id: str | None = None
    client: str | None = None
    name: str | None = None

    @property
    def role(self) -> str | None:
        """The roles as one audit field ("dpo" or "admin+dpo")."""
        return "+".join(sorted(self.roles)) or None


SYSTEM = Actor(id="system", type="system", roles=("system",))


@dataclass(frozen=True)
class Purpose:
    """A declared purpose of processing: a name listed in ``policies/purposes.yaml``.

    Build one with ``Purpose.named`` (validated); ``system`` purposes are those the server's own
    internal reads declare (PII scans, quality, imports, merge), never a caller.
    """

    name: str
    system: bool = False

    def __str__(self) -> str:
        return self.name

    @classmethod
    def named(cls, name: str, *, field: str = "X-Purpose", system: bool = False) -> Purpose:
        """The purpose called ``name``; ValidationError (422) naming ``field`` when unknown.

        A system purpose is accepted only with ``system=True`` (the CLI and internal reads).
        """
        known = purposes()
        if name not in known or (known[name] and not system):
            raise ValidationError(
                "unknown purpose", [{"field": field, "message": "is not a known purpose"}]
            )
        return cls(name, known[name])


def purposes() -> dict[str, bool]:
    """``policies/purposes.yaml``, loaded once: ``{name: is a system purpose}``."""
    from governance.purposes import current

    return {name: spec.system for name, spec in current().specs.items()}


def system_purpose(name: str) -> Purpose:
    """A system purpose of an internal read (its name must be in ``purposes.yaml``)."""
    return Purpose.named(name, field="purpose", system=True)


def utcnow() -> datetime:
    """The wall clock in UTC: the default clock of a ``Call`` and of the app."""
    return datetime.now(UTC)


@dataclass
class Call:
    """One service invocation's dependencies."""

    session: Session
    actor: Actor
    vault: Vault
    audit: AuditLog
    settings: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    purpose: Purpose | None = None

    def now(self) -> datetime:
        return self.clock()

    def as_actor(self, actor: Actor) -> Call:
        """The same dependencies acting as someone else."""
        return replace(self, actor=actor)

    def for_purpose(self, purpose: Purpose | None) -> Call:
        """The same call declaring ``purpose``."""
        return replace(self, purpose=purpose)

    @property
    def purpose_name(self) -> str | None:
        """The declared purpose as the audit log records it (None when none was declared)."""
        return self.purpose.name if self.purpose else None
