"""The consent ledger: append-only events per customer and purpose (GDPR Art. 7(1): the
controller must be able to demonstrate consent; PIPL Art. 14, 15; CCPA 1798.120 opt-out).

Each event is one row of ``consent_events`` and one audit entry (``consent.grant``,
``consent.withdraw``, ``consent.refuse``) in the same transaction: the receipt of an event is
that entry's inclusion proof. The current state per purpose is derived from the events
(``derive``), never stored: ``granted``, ``withdrawn``, ``refused``, ``expired`` (the notice's
consent lifetime passed), ``reconsent_needed`` (a later notice widened the purpose) or ``none``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.errors import ValidationError
from governance.models import ConsentCurrent, ConsentEvent, Customer, Notice, NoticePurpose
from governance.models.ids import is_id, new_id
from governance.purposes import current as purposes
from governance.services.consent.notices import iso
from governance.services.customers.normalise import FieldError, parse_timestamp

ACTIONS = ("grant", "withdraw", "refuse")
DERIVED = ("expired", "reconsent_needed", "granted", "withdrawn", "refused", "none")
SOURCES = ("web_form", "app", "import", "paper", "gpc", "migration")
STATE_OF = {"grant": "granted", "withdraw": "withdrawn", "refuse": "refused"}
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_BULK = 1000


@dataclass(frozen=True)
class Request:
    """One validated consent event to record."""

    customer_id: str
    purpose: str
    action: str
    source: str
    notice: Notice | None
    occurred_at: datetime
    channel: str | None = None
    evidence_ref: str | None = None


class Notices:
    """The notices and their purposes, read once per call (two small queries)."""

    def __init__(self, call: Call) -> None:
        self.by_version = {n.version: n for n in call.session.scalars(select(Notice))}
        rows = call.session.scalars(select(NoticePurpose)).all()
        self.covered = {(r.version, r.purpose) for r in rows}
        self.widening = [r for r in rows if r.widens]


def _bad(errors: list[dict[str, str]], field: str, message: str) -> None:
    errors.append({"field": field, "message": message})


def parse(call: Call, data: Any, notices: Notices, customer_id: str, where: str = "") -> Request:
    """Validate one event's JSON; ValidationError naming each bad field."""
    if not isinstance(data, dict):
        raise ValidationError(
            "expected a JSON object", [{"field": where, "message": "not an object"}]
        )
    errors: list[dict[str, str]] = []
    known = {"purpose", "action", "source", "notice_version", "channel", "evidence_ref",
             "occurred_at", "customer_id"}  # fmt: skip
    for name in sorted(set(data) - known):
        _bad(errors, where + name, "is not a known field")
    purpose, action, source = data.get("purpose"), data.get("action"), data.get("source")
    catalogue = purposes()
    if not isinstance(purpose, str) or purpose not in catalogue or catalogue[purpose].system:
        _bad(errors, where + "purpose", "is not a known purpose")
    elif not catalogue[purpose].consent_based:
        _bad(errors, where + "purpose", f"is based on {catalogue[purpose].basis}, not consent")
    if action in ("expired", "reconsent_needed"):
        _bad(errors, where + "action", "is a state the server derives, never an action")
    elif action not in ACTIONS:
        _bad(errors, where + "action", "must be grant, withdraw or refuse")
    if source not in SOURCES:
        _bad(errors, where + "source", f"must be one of {', '.join(SOURCES)}")
    version = data.get("notice_version")
    notice = None
    if version is None:
        if action in ("grant", "refuse"):
            _bad(errors, where + "notice_version", f"is required to {action}")
    elif not isinstance(version, str) or version not in notices.by_version:
        _bad(errors, where + "notice_version", "is not a notice version")
    else:
        notice = notices.by_version[version]
        if isinstance(purpose, str) and (version, purpose) not in notices.covered:
            _bad(errors, where + "notice_version", f"does not ask consent for {purpose}")
    now = call.now()
    occurred = now
    if data.get("occurred_at") is not None:
        try:
            occurred = parse_timestamp(data["occurred_at"])
        except (FieldError, AssertionError):
            _bad(errors, where + "occurred_at", "must be an ISO 8601 timestamp")
        else:
            if occurred > now:
                _bad(errors, where + "occurred_at", "is in the future")
    channel, evidence = data.get("channel"), data.get("evidence_ref")
    if channel is not None and (not isinstance(channel, str) or not _CHANNEL.fullmatch(channel)):
        _bad(errors, where + "channel", "must be a lowercase identifier of up to 32 characters")
    if evidence is not None and (not isinstance(evidence, str) or not 0 < len(evidence) <= 200):
        _bad(errors, where + "evidence_ref", "must be a reference of up to 200 characters")
    if errors:
        raise ValidationError("the consent event has invalid fields", errors)
    return Request(
        customer_id, str(purpose), str(action), str(source), notice, occurred, channel, evidence
    )


def existing_subjects(call: Call, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are customers (one query)."""
    wanted = [i for i in set(ids) if is_id(i)]
    if not wanted:
        return set()
    return set(call.session.scalars(select(Customer.id).where(Customer.id.in_(wanted))))


def require_customer(call: Call, customer_id: str) -> None:
    """NotFound, or 410 when erased (no consent is recorded for an erased subject)."""
    from governance.services.customers.reads import load_one

    load_one(call, customer_id)


def latest_actions(call: Call, ids: Iterable[str]) -> dict[tuple[str, str], ConsentEvent]:
    """The latest effective event per (customer, purpose) of ``ids`` (one query): the events
    ``consent_current`` points at (the database's projection of exactly this, migration 0020),
    not a second derivation of it with an anti-join over the ledger."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    query = (
        select(ConsentEvent)
        .join(ConsentCurrent, ConsentCurrent.seq == ConsentEvent.seq)
        .where(ConsentCurrent.customer_id.in_(wanted))
    )
    return {(e.customer_id, e.purpose): e for e in call.session.scalars(query)}


def prepare(
    call: Call,
    req: Request,
    latest: Mapping[tuple[str, str], ConsentEvent],
    *,
    granted: bool | None = None,
) -> tuple[ConsentEvent, dict[str, Any]]:
    """The event row and its audit entry (``AuditLog.record`` arguments) for one request. A
    withdrawal with no grant in force is recorded but does not change the state (``effective``
    false); ``granted`` says whether the latest event is a grant when the caller knows (else
    ``latest`` tells)."""
    if granted is None:
        prior = latest.get((req.customer_id, req.purpose))
        granted = prior is not None and prior.action == "grant"
    effective = req.action != "withdraw" or granted
    notice = req.notice
    expires = None
    if req.action == "grant" and notice is not None and notice.lifetime_days:
        expires = req.occurred_at + timedelta(days=notice.lifetime_days)
    event = ConsentEvent(
        id=new_id(),
        customer_id=req.customer_id,
        purpose=req.purpose,
        action=req.action,
        effective=effective,
        source=req.source,
        notice_version=notice.version if notice else None,
        notice_effective_at=notice.effective_at if notice else None,
        channel=req.channel,
        evidence_ref=req.evidence_ref,
        occurred_at=req.occurred_at,
        recorded_at=call.now(),
        expires_at=expires,
        actor_id=call.actor.id,
        actor_type=call.actor.type,
    )
    entry = {
        "action": f"consent.{req.action}",
        "resource": "consent",
        "subject_id": req.customer_id,
        "purpose": req.purpose,
        "details": {
            "event": event.id,
            "source": req.source,
            "notice_version": event.notice_version,
            "notice_sha256": notice.text_sha256 if notice else None,
            "channel": req.channel,
            "evidence_ref": req.evidence_ref,
            "occurred_at": iso(req.occurred_at),
            "effective": effective,
        },
    }
    return event, entry


def append(
    call: Call,
    req: Request,
    latest: Mapping[tuple[str, str], ConsentEvent],
    *,
    granted: bool | None = None,
) -> ConsentEvent:
    """Insert one event and its audit entry (the caller commits)."""
    event, entry = prepare(call, req, latest, granted=granted)
    action = entry.pop("action")
    appended = call.audit.record(call.session, call.actor, action, now=call.now(), **entry)
    event.audit_qid = appended.qid
    call.session.add(event)
    return event


def event_json(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "customer_id": event.customer_id,
        "purpose": event.purpose,
        "action": event.action,
        "source": event.source,
        "notice_version": event.notice_version,
        "channel": event.channel,
        "evidence_ref": event.evidence_ref,
        "occurred_at": iso(event.occurred_at),
        "recorded_at": iso(event.recorded_at),
        "expires_at": iso(event.expires_at),
        "changed": event.effective,
        "recorded_by": {"id": event.actor_id, "type": event.actor_type},
    }


def derive(
    events: Sequence[ConsentEvent], widening: Sequence[NoticePurpose], now: datetime
) -> dict[str, dict[str, Any]]:
    """The state per consent-based purpose from one customer's events (in ``seq`` order)."""
    latest: dict[str, ConsentEvent] = {}
    for row in events:
        if row.effective:
            latest[row.purpose] = row
    out: dict[str, dict[str, Any]] = {}
    for purpose in purposes().consent_based():
        event = latest.get(purpose)
        if event is None:
            out[purpose] = {"state": "none", "since": None, "notice_version": None}
            continue
        state, since = STATE_OF[event.action], event.occurred_at
        if event.action == "grant":
            widened = sorted(
                w.effective_at
                for w in widening
                if w.purpose == purpose
                and event.notice_effective_at is not None
                and event.notice_effective_at < w.effective_at <= now
            )
            if event.expires_at is not None and event.expires_at <= now:
                state, since = "expired", event.expires_at
            elif widened:
                state, since = "reconsent_needed", widened[0]
        out[purpose] = {"state": state, "since": iso(since), "notice_version": event.notice_version}
    return out


def customer_events(call: Call, customer_id: str) -> list[ConsentEvent]:
    query = select(ConsentEvent).where(ConsentEvent.customer_id == customer_id)
    return list(call.session.scalars(query.order_by(ConsentEvent.seq)))


def consent_state(call: Call, customer_id: str) -> dict[str, Any]:
    """``{"purposes": {purpose: {state, since, notice_version}}, "events": [...]}``."""
    require_customer(call, customer_id)
    events = customer_events(call, customer_id)
    widening = call.session.scalars(
        select(NoticePurpose).where(NoticePurpose.widens.is_(True))
    ).all()
    from governance.services.consent.objections import objections_of

    call.audit.record(
        call.session,
        call.actor,
        "consent.read",
        now=call.now(),
        resource="consent",
        subject_id=customer_id,
        details={"events": len(events)},
    )
    return {
        "customer_id": customer_id,
        "purposes": derive(events, widening, call.now()),
        "events": [event_json(e) for e in events],
        "objections": objections_of(call, customer_id),
    }


def record_event(
    call: Call, customer_id: str, data: Any, *, gpc: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Record one event for ``customer_id`` (and, with ``gpc``, the Global Privacy Control
    opt-out of ``sale_or_sharing``); returns the event and any GPC event."""
    require_customer(call, customer_id)
    notices = Notices(call)
    req = parse(call, data, notices, customer_id)
    latest = latest_actions(call, [customer_id])
    event = append(call, req, latest)
    doc = event_json(event)
    if not event.effective:
        doc["note"] = "no consent was granted for this purpose: recorded, state unchanged"
    extra = []
    if gpc:
        call.session.flush()
        extra = [event_json(e) for e in gpc_opt_out(call, customer_id, notices)]
    return doc, extra


def gpc_opt_out(call: Call, customer_id: str, notices: Notices) -> list[ConsentEvent]:
    """Record the opt-out a ``Sec-GPC: 1`` signal means: withdraw a granted ``sale_or_sharing``
    consent, or refuse it under the notice in force; nothing when already opted out."""
    purpose = "sale_or_sharing"
    prior = latest_actions(call, [customer_id]).get((customer_id, purpose))
    if prior is not None and prior.action in ("withdraw", "refuse"):
        return []
    if prior is not None and prior.action == "grant":
        req = Request(customer_id, purpose, "withdraw", "gpc", None, call.now())
    else:
        from governance.services.consent.notices import in_force

        notice = in_force(call)
        if notice is None or (notice.version, purpose) not in notices.covered:
            return []
        req = Request(customer_id, purpose, "refuse", "gpc", notice, call.now())
    return [append(call, req, {(customer_id, purpose): prior} if prior else {})]
