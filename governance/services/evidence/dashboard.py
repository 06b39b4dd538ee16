"""The console dashboard's figures: counts of records, audit entries and pending jobs (no
personal data). The caller says which figures the role may see; only those are counted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.context import Call
from governance.models import Customer, Interaction, Job, Order
from governance.services.auditlog.append import tree_size


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


FIGURES: dict[str, Callable[[Session], int]] = {
    "customers": lambda s: _count(s, Customer),
    "orders": lambda s: _count(s, Order),
    "interactions": lambda s: _count(s, Interaction),
    "audit entries": tree_size,
    "running jobs": lambda s: _count(s, Job, Job.state.in_(("queued", "running"))),
}


def figures(call: Call, names: Iterable[str]) -> dict[str, int]:
    """The figures ``names`` (keys of ``FIGURES``), in that order."""
    return {name: FIGURES[name](call.session) for name in names}
