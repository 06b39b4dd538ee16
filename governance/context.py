"""The plain arguments every service call receives: who acts, on which session, with which keys.

Front ends (API, console, CLI, tests) build a ``Call`` and pass it to service functions; services
never read Flask's request or globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from audit.entry import ActorType

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

    def now(self) -> datetime:
        return self.clock()

    def as_actor(self, actor: Actor) -> Call:
        """The same dependencies acting as someone else."""
        return Call(self.session, actor, self.vault, self.audit, self.settings, self.clock)
