"""Readable names for the ids an audit page shows: people by email, service accounts by name
(each marked with its kind, so a customer and a service account never look alike), everything
else (customers, jobs, findings) as the shortest id suffix that is unique on the page.

Customer names are never looked up here: showing one would be a read of customer data, which
only the governed pipeline does (and audits). Time-ordered ids share their leading digits
(``01a2490a…`` for every customer made the same day), so the short form is the *end* of the id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from governance.models import ServiceAccount, User

SHORTEST = 6
# Actions (their first word) whose subject is a customer.
CUSTOMER_ACTIONS = frozenset(
    {"customer", "order", "interaction", "consent", "request", "retention", "erasure"}
)


@dataclass(frozen=True)
class Name:
    kind: str  # person | service | system | customer | record
    label: str
    id: str | None


def short_ids(ids: Iterable[str | None]) -> dict[str, str]:
    """Each id as ``…`` plus its shortest suffix (at least 6 characters) unique among ``ids``."""
    distinct = sorted({i for i in ids if i})
    width = SHORTEST
    while width < max((len(i) for i in distinct), default=0):
        if len({i[-width:] for i in distinct}) == len(distinct):
            break
        width += 2
    return {i: ("…" + i[-width:]) if len(i) > width else i for i in distinct}


def principals(session: Session, ids: Iterable[str | None]) -> dict[str, Name]:
    """People and service accounts among ``ids`` (two queries, whatever the page size)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    found = {
        uid: Name("person", email, uid)
        for uid, email in session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    }
    rest = [i for i in wanted if i not in found]
    if rest:
        found.update(
            (sid, Name("service", name, sid))
            for sid, name in session.execute(
                select(ServiceAccount.id, ServiceAccount.name).where(ServiceAccount.id.in_(rest))
            )
        )
    return found


def name_entries(
    session: Session, entries: list[dict[str, object]]
) -> tuple[dict[str, Name], dict[str, Name]]:
    """Names for the actors and subjects of a page of entries (API shape, ``entry_json``)."""
    actor_ids = [str(e["actor_id"]) for e in entries if e.get("actor_id")]
    subject_ids = [str(e["subject_id"]) for e in entries if e.get("subject_id")]
    known = principals(session, [*actor_ids, *subject_ids])
    short = short_ids([*actor_ids, *subject_ids])
    actors: dict[str, Name] = {}
    for e in entries:
        aid = e.get("actor_id")
        if not aid:
            continue
        aid = str(aid)
        if aid in known:
            actors[aid] = known[aid]
        elif e.get("actor_type") == "system" or aid == "system":
            actors[aid] = Name("system", "system", aid)
        else:
            actors[aid] = Name(str(e.get("actor_type") or "record"), short[aid], aid)
    subjects: dict[str, Name] = {}
    for e in entries:
        sid = e.get("subject_id")
        if not sid:
            continue
        sid = str(sid)
        if sid in known:
            subjects[sid] = known[sid]
        else:
            action = str(e.get("action", "")).split(".")[0]
            customer = e.get("resource") == "customers" or action in CUSTOMER_ACTIONS
            if customer or sid not in subjects:  # one customer action names it for the page
                subjects[sid] = Name("customer" if customer else "record", short[sid], sid)
    return actors, subjects


def reveal_reason(entry: dict[str, object]) -> str | None:
    """The reason a person gave to see a customer in clear, if this entry records a reveal."""
    details = entry.get("details")
    if isinstance(details, dict):
        reason = details.get("reveal_reason")
        return str(reason) if reason else None
    return None
