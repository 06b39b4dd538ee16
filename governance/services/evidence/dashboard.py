"""The console dashboard: "are we compliant right now, and what needs me today?" as tiles.

Each tile comes from a *provider*: a function of the ``Call`` registered with ``@provider`` and
the console pages (endpoints) it summarises. A role sees a tile only if it may open one of those
pages, so the dashboard tells nobody more than their own pages would, and a provider is run only
for roles that will see it. Other domains plug their tiles in the same way from their own
service module (consent per purpose, requests due, last backup, open incidents)::

    from governance.services.evidence.dashboard import Tile, provider

    @provider("requests-due", pages=("console.requests",), order=20)
    def requests_due(call: Call) -> Tile | None: ...

and import that module from ``services/evidence/tiles.py`` (or anywhere loaded at start). No
tile holds personal data: counts, dates, states. Titles are English; the console translates
them (``N_`` marks them for extraction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from governance.context import Call
from governance.models import AuditCheckpoint, AuditEntry, Customer, Interaction, Job, Order

State = Literal["", "good", "warn", "bad"]


def N_(text: str) -> str:  # noqa: N802  (gettext's conventional name for a deferred marker)
    """Mark ``text`` for translation where it is shown, not here (services have no locale)."""
    return text


@dataclass(frozen=True)
class Tile:
    """One dashboard tile: a figure (a number or a short text), a line saying what it means,
    the page it links to, a state (colour), and an optional server-side chart (bars)."""

    key: str
    title: str
    value: int | str
    detail: str = ""
    link: str | None = None  # a console endpoint
    link_args: dict[str, str] = field(default_factory=dict)
    state: State = ""
    bars: tuple[tuple[str, int], ...] = ()
    detail_args: dict[str, str] = field(default_factory=dict)  # %(name)s values of ``detail``


@dataclass(frozen=True)
class Provider:
    key: str
    pages: tuple[str, ...]
    build: Callable[[Call], Tile | None]
    order: int


PROVIDERS: dict[str, Provider] = {}


def provider(
    key: str, *, pages: tuple[str, ...], order: int = 50
) -> Callable[[Callable[[Call], Tile | None]], Callable[[Call], Tile | None]]:
    """Register a tile provider shown to roles that may open one of ``pages``."""

    def register(build: Callable[[Call], Tile | None]) -> Callable[[Call], Tile | None]:
        PROVIDERS[key] = Provider(key, pages, build, order)
        return build

    return register


def tiles(call: Call, may_open: Callable[[tuple[str, ...]], bool]) -> list[Tile]:
    """The tiles the caller may see, in order (providers answering None are left out)."""
    shown = []
    for p in sorted(PROVIDERS.values(), key=lambda p: (p.order, p.key)):
        if may_open(p.pages):
            tile = p.build(call)
            if tile is not None:
                shown.append(tile)
    return shown


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# -- figures (kept for callers of ``figures``) ----------------------------------------------
FIGURES: dict[str, Callable[[Session], int]] = {
    "customers": lambda s: _count(s, Customer),
    "orders": lambda s: _count(s, Order),
    "interactions": lambda s: _count(s, Interaction),
    "audit entries": lambda s: _tree_size(s),
    "running jobs": lambda s: _count(s, Job, Job.state.in_(("queued", "running"))),
}


def _tree_size(session: Session) -> int:
    from governance.services.auditlog.append import tree_size

    return tree_size(session)


def figures(call: Call, names: Iterable[str]) -> dict[str, int]:
    """The figures ``names`` (keys of ``FIGURES``), in that order."""
    return {name: FIGURES[name](call.session) for name in names}


# -- the tiles this package provides -------------------------------------------------------
INVENTORY = "console.report_data_inventory"


@provider("customers", pages=("console.customers", INVENTORY), order=10)
def _customers(call: Call) -> Tile:
    return Tile("customers", N_("Customers"), _count(call.session, Customer),
                N_("records in the customer store"), "console.customers")  # fmt: skip


@provider("orders", pages=("api.list_orders", INVENTORY), order=11)
def _orders(call: Call) -> Tile:
    return Tile("orders", N_("Orders"), _count(call.session, Order), N_("order records"))


@provider("interactions", pages=("api.list_interactions", INVENTORY), order=12)
def _interactions(call: Call) -> Tile:
    count = _count(call.session, Interaction)
    return Tile("interactions", N_("Interactions"), count, N_("interaction records"))


def _age(moment: datetime | None, now: datetime) -> timedelta | None:
    return now - moment if moment else None


@provider("audit entries", pages=("console.audit",), order=30)
def _audit(call: Call) -> Tile:
    """Log size, the newest signed checkpoint and the last full verification (and its result)."""
    session = call.session
    latest = session.scalar(
        select(AuditCheckpoint.timestamp).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    )
    # max(seq + 0), not ORDER BY seq DESC LIMIT 1: the latter walks the primary key backwards
    # through every entry when no verification is near the end (0.56 s at 1,000,000 entries on
    # PostgreSQL); the expression makes both databases use the index on action instead.
    last = session.scalar(
        select(func.max(AuditEntry.seq + 0)).where(AuditEntry.action == "audit.verify")
    )
    verified = (
        session.execute(
            select(AuditEntry.timestamp, AuditEntry.outcome).where(AuditEntry.seq == last)
        ).first()
        if last is not None
        else None
    )
    failed = verified is not None and verified[1] != "allowed"
    detail = N_("last checkpoint %(cp)s; last verified %(v)s")
    state: State = "bad" if failed else ("good" if verified else "warn")
    return Tile(
        "audit entries", N_("Audit entries"), _tree_size(session), detail, "console.audit",
        state=state, detail_args={"cp": (latest or "—")[:16].replace("T", " "),
                                  "v": verified[0][:16].replace("T", " ") if verified else "—"},
    )  # fmt: skip


@provider("running jobs", pages=("console.jobs",), order=60)
def _jobs(call: Call) -> Tile:
    running = _count(call.session, Job, Job.state.in_(("queued", "running")))
    failed = _count(call.session, Job, Job.state == "failed")
    return Tile("running jobs", N_("Running jobs"), running,
                N_("queued or running; %(failed)s failed"), "console.jobs",
                state="bad" if failed else "", detail_args={"failed": str(failed)})  # fmt: skip


@provider("pii to review", pages=("console.pii",), order=40)
def _pii_open(call: Call) -> Tile:
    from governance.models import PiiFinding

    open_ = _count(call.session, PiiFinding, PiiFinding.status == "open")
    return Tile("pii to review", N_("PII findings to review"), open_,
                N_("open findings of the PII scans"), "console.pii", {"status": "open"},
                "warn" if open_ else "good")  # fmt: skip


@provider("mfa coverage", pages=("console.users",), order=70)
def _mfa(call: Call) -> Tile:
    """Two-factor coverage of people whose roles require it (every person role today)."""
    from governance.models import User
    from governance.security.masking import default_visibility

    roles = default_visibility().roles
    people = call.session.execute(
        select(User.roles, User.totp_enrolled).where(User.state == "active")
    ).all()
    needing = [enrolled for held, enrolled in people
               if any(roles[r].mfa_required for r in held if r in roles)]  # fmt: skip
    covered = sum(1 for enrolled in needing if enrolled)
    value = f"{covered}/{len(needing)}"
    state: State = "good" if covered == len(needing) else "warn"
    return Tile("mfa coverage", N_("Two-factor coverage"), value,
                N_("privileged accounts enrolled"), "console.users", state=state)  # fmt: skip


@provider("tokens near expiry", pages=("console.service_accounts",), order=71)
def _tokens(call: Call) -> Tile:
    from governance.models import ApiToken

    now = call.now()
    soon = _count(call.session, ApiToken, ApiToken.revoked_at.is_(None),
                  ApiToken.expires_at.is_not(None), ApiToken.expires_at > now,
                  ApiToken.expires_at <= now + timedelta(days=14))  # fmt: skip
    return Tile("tokens near expiry", N_("Tokens near expiry"), soon,
                N_("API tokens expiring within 14 days"), "console.service_accounts",
                state="warn" if soon else "good")  # fmt: skip


@provider("pii in undeclared places", pages=("console.index",), order=41)
def _pii_undeclared(call: Call) -> Tile:
    """Every role sees it (a count of places, no customer data)."""
    from governance.services.pii.review import undeclared_confirmed

    found = undeclared_confirmed(call)
    filters = {"status": "confirmed", "place": "undeclared"}
    return Tile("pii in undeclared places", N_("PII in undeclared places"), found,
                N_("confirmed findings of a type the column does not declare"), "console.pii",
                filters, "bad" if found else "good")  # fmt: skip


@provider("refused grants of customer data", pages=("console.users", "console.audit"), order=72)
def _grant_refusals(call: Call) -> Tile | None:
    from governance.services.identity.service_accounts import grant_refusals

    refused = grant_refusals(call)
    if not refused:
        return None
    return Tile("refused grants of customer data", N_("Refused grants of customer data"), refused,
                N_("a person tried to give an application a customer-data role or its token "
                   "(audit action access.grant_refused)"), state="warn")  # fmt: skip
