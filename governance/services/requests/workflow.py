"""Data-subject requests: receipt, the legal clock, verification, extension and the outcome.

States: received -> verifying -> in_progress -> completed | refused (a refusal, with its
reasons, from any open state; verification is never skipped). The subject is matched by blind
index (email, phone or national id), so no value is decrypted to find them and none is stored
on the request. The deadline comes from ``policies/request_rules.yaml`` for the jurisdiction,
given or derived from the customer's country and subdivision (``governance/jurisdictions.py``);
where a US customer's state is unknown every US regime applies, the earliest deadline rules and
the request says so. Every step is audited and kept in the request's history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from governance import jurisdictions
from governance.context import Call
from governance.errors import Conflict, NotFound, ValidationError
from governance.models import Customer, RequestEvent, SubjectRequest
from governance.models.ids import is_id, new_id
from governance.models.requests import REQUEST_KINDS, REQUEST_STATES
from governance.services.auditlog.append import rfc3339
from governance.services.customers import normalise as norm
from governance.services.requests import rules as request_rules

OPEN = ("received", "verifying", "in_progress")
NEXT = {"received": "verifying", "verifying": "in_progress", "in_progress": "completed"}
SUBJECT_KEYS = ("email", "phone", "national_id")
CREATE_KEYS = {"kind", "subject", "jurisdiction", "received_at", "owner", "verification",
               "changes", "purpose", "reason"}  # fmt: skip
SKEW = timedelta(minutes=5)


class InvalidTransition(Conflict):
    slug = "invalid-transition"
    title = "Invalid state transition"


def _bad(field: str, message: str, title: str = "invalid request") -> ValidationError:
    return ValidationError(title, [{"field": field, "message": message}])


def _text(data: dict[str, Any], name: str, max_length: int = 2000) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, "must be a non-empty string")
    return norm.clean_text(value, max_length=max_length)


def _moment(value: Any, field: str, now: datetime) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, "must be an RFC 3339 date-time")
    try:
        moment = norm.parse_timestamp(value)
    except (norm.FieldError, ValueError, TypeError):
        raise _bad(field, "must be an RFC 3339 date-time") from None
    if moment > now + SKEW:
        raise _bad(field, "is in the future")
    return moment


def match_subject(call: Call, subject: Any) -> tuple[str | None, str]:
    """The customer id the subject names (None: not held) and the key it was matched by."""
    if not isinstance(subject, dict) or len(subject) != 1 or set(subject) - set(SUBJECT_KEYS):
        raise _bad("subject", "give exactly one of email, phone or national_id")
    ((kind, value),) = subject.items()
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"subject.{kind}", "must be a non-empty string")
    try:
        if kind == "email":
            clean = norm.normalise_email(value)
        elif kind == "phone":
            clean = norm.normalise_phone(value, call.settings.get("DEFAULT_REGION", "CN"))
        else:
            clean = norm.normalise_national_id(value, None)
    except norm.FieldError as exc:
        raise _bad(f"subject.{kind}", str(exc)) from None
    column = {"email": Customer.email_bidx, "phone": Customer.phone_bidx,
              "national_id": Customer.national_id_bidx}[kind]  # fmt: skip
    index = call.vault.blind_index(kind, clean)
    found = call.session.scalars(select(Customer.id).where(column == index).limit(1)).first()
    return found, kind


def _jurisdiction(
    call: Call, given: Any, customer_id: str | None, received: datetime
) -> tuple[str | None, list[str], str | None]:
    """(the regime whose clock runs, every regime that applies, a note when assumed)."""
    book = request_rules.current()
    if given is not None:
        if not isinstance(given, str) or given not in book.rules:
            known = ", ".join(book.rules)
            raise _bad("jurisdiction", f"is not a regime with request rules ({known})")
        return given, [given], None
    if customer_id is None:
        return None, [], "no jurisdiction given and the subject is not held"
    row = call.session.get(Customer, customer_id)
    assert row is not None
    found = jurisdictions.current().applicable(row.country, row.subdivision)
    regimes = [r for r in found.regimes if r in book.rules]
    if not regimes:
        raise _bad(
            "jurisdiction",
            "is required: no regime with request rules follows from the customer's country",
        )
    first = min(regimes, key=lambda r: book.rules[r].deadline.after(received))
    return first, regimes, found.note or None


def create(call: Call, data: Any) -> dict[str, Any]:
    """Record a request; a subject the store does not hold is answered at once (no data held)."""
    if not isinstance(data, dict):
        raise _bad("", "not an object", "expected a JSON object")
    unknown = sorted(set(data) - CREATE_KEYS)
    if unknown:
        raise ValidationError(
            "invalid request", [{"field": k, "message": "is not a known field"} for k in unknown]
        )
    kind = data.get("kind")
    if kind not in REQUEST_KINDS:
        raise _bad("kind", f"must be one of {', '.join(REQUEST_KINDS)}")
    now = call.now()
    received = _moment(data["received_at"], "received_at", now) if "received_at" in data else now
    customer_id, matched_by = match_subject(call, data.get("subject"))
    regime, regimes, note = _jurisdiction(call, data.get("jurisdiction"), customer_id, received)
    book = request_rules.current()
    due = (
        book.rules[regime].deadline.after(received)
        if regime
        else min(r.deadline.after(received) for r in book.rules.values())
    )
    changes = data.get("changes")
    if kind == "rectification" and customer_id and not isinstance(changes, dict):
        raise _bad("changes", "a rectification needs the changes (a JSON merge patch)")
    request = SubjectRequest(
        id=new_id(), kind=kind, state="received", customer_id=customer_id,
        matched_by=matched_by if customer_id else None, jurisdiction=regime,
        jurisdictions=regimes, jurisdiction_note=note, received_at=received, due_at=due,
        original_due_at=due, owner=_text(data, "owner", 200) or call.actor.name,
        verification=_text(data, "verification"), purpose=_text(data, "purpose", 64),
        reason=_text(data, "reason"), created_at=now, created_by=call.actor.id,
    )  # fmt: skip
    if kind == "rectification" and customer_id:
        key = call.vault.subject_key(call.session, customer_id)
        request.changes_ct = call.vault.seal(key, "subject_requests", "changes", customer_id,
                                             changes, row_id=request.id)  # fmt: skip
    call.session.add(request)
    call.session.flush()  # the history rows reference it
    _event(call, request, "received", None, "received", f"matched by {matched_by}"
           if customer_id else "no customer matches the subject")  # fmt: skip
    if customer_id is None:
        request.state, request.outcome, request.completed_at = "completed", "no_data_held", now
        _event(call, request, "completed", "received", "completed",
               "no data held: the person is told that no data about them is held")  # fmt: skip
    call.session.flush()
    _audit(call, request, "request.create", {"matched_by": matched_by if customer_id else None})
    return describe(request, now)


def _event(
    call: Call, request: SubjectRequest, action: str, old: str | None, new: str | None,
    note: str | None = None,
) -> None:  # fmt: skip
    row = RequestEvent(request_id=request.id, at=call.now(), actor_id=call.actor.id,
                       action=action, from_state=old, to_state=new, note=note)  # fmt: skip
    call.session.add(row)


def _audit(call: Call, request: SubjectRequest, action: str, extra: dict[str, Any]) -> Any:
    return call.audit.record(
        call.session, call.actor, action, now=call.now(), resource="subject_requests",
        subject_id=request.customer_id,
        details={"request_id": request.id, "kind": request.kind, "state": request.state,
                 "jurisdiction": request.jurisdiction, **extra},
    )  # fmt: skip


def load(call: Call, request_id: str) -> SubjectRequest:
    found = call.session.get(SubjectRequest, request_id) if is_id(request_id) else None
    if found is None:
        raise NotFound("no such request")
    return found


def transition(call: Call, request_id: str, data: Any) -> dict[str, Any]:
    """Move a request to the state ``data["to"]``; completing it carries out the request."""
    from governance.services.requests import actions

    if not isinstance(data, dict):
        raise _bad("", "not an object", "expected a JSON object")
    target = data.get("to")
    if target not in REQUEST_STATES:
        raise _bad("to", f"must be one of {', '.join(REQUEST_STATES)}")
    request = load(call, request_id)
    current = request.state
    note = _text(data, "note")
    if target == "refused":
        reason = _text(data, "reason")
        if current not in OPEN:
            raise InvalidTransition(f"a {current} request cannot be refused")
        if not reason:
            raise _bad("reason", "a refusal needs its reasons (they are given to the person)")
        request.state, request.outcome, request.refusal_reason = "refused", "refused", reason
        request.completed_at = call.now()
        _event(call, request, "refused", current, "refused", reason)
        _audit(call, request, "request.refuse", {"from": current})
        return describe(request, call.now())
    if NEXT.get(current) != target:
        skipped = " (verification cannot be skipped)" if current == "received" else ""
        raise InvalidTransition(f"{current} -> {target} is not allowed{skipped}")
    if target == "in_progress":
        how = _text(data, "verification") or request.verification
        if not how:
            raise _bad("verification", "say how the requester's identity was verified")
        request.verification = how
    if target == "completed":
        outcome = actions.carry_out(call, request)
        request.outcome = outcome
        if outcome == "export_building":
            _event(call, request, "export", current, current, "export job queued")
            _audit(call, request, "request.export", {})
            return describe(request, call.now())
        request.completed_at = call.now()
    request.state = target
    _event(call, request, "transition", current, target, note)
    _audit(call, request, f"request.{target}", {"from": current, "outcome": request.outcome})
    return describe(request, call.now())


def extend(call: Call, request_id: str, data: Any) -> dict[str, Any]:
    """Extend the deadline, with the reason and the date the person was told; 422 without a
    reason or beyond the legal maximum (the regime's extension from the original due date)."""
    if not isinstance(data, dict):
        raise _bad("", "not an object", "expected a JSON object")
    request = load(call, request_id)
    reason = _text(data, "reason")
    if not reason:
        raise _bad("reason", "an extension needs its reason (the person is told it)")
    now = call.now()
    if "told_at" not in data:
        raise _bad("told_at", "give the date the person was told of the extension")
    told = _moment(data["told_at"], "told_at", now)
    if request.state not in OPEN:
        raise InvalidTransition(f"a {request.state} request cannot be extended")
    if request.jurisdiction is None:
        raise _bad("jurisdiction", "the request has no jurisdiction to extend under")
    rule = request_rules.current().for_regime(request.jurisdiction)
    most = rule.extension.after(request.original_due_at)
    wanted = _moment_any(data["until"], "until") if data.get("until") is not None else most
    if wanted > most:
        raise _bad("until", f"is beyond the legal maximum ({rfc3339(most)}, {rule.law}: "
                   f"{rule.extension.describe()} more)", "beyond the legal maximum")  # fmt: skip
    if wanted <= request.due_at:
        message = ("the deadline is already at the legal maximum" if request.due_at >= most
                   else "must be later than the current deadline")  # fmt: skip
        raise _bad("until", message, "beyond the legal maximum")
    old = request.due_at
    request.due_at, request.extension_reason, request.extension_told_at = wanted, reason, told
    _event(call, request, "extended", request.state, request.state,
           f"{rfc3339(old)} -> {rfc3339(wanted)}: {reason}")  # fmt: skip
    _audit(call, request, "request.extend", {"due_at": rfc3339(wanted)})
    return describe(request, now)


def _moment_any(value: Any, field: str) -> datetime:
    try:
        return norm.parse_timestamp(value)
    except (norm.FieldError, ValueError, TypeError):
        raise _bad(field, "must be an RFC 3339 date-time") from None


def _iso(moment: datetime | None) -> str | None:
    return rfc3339(moment)[:19] + "Z" if moment else None


def flags(request: SubjectRequest, now: datetime) -> dict[str, Any]:
    """``overdue``, ``due_soon`` (within due_soon_days) and the whole days left."""
    open_ = request.state in OPEN
    soon = timedelta(days=request_rules.current().due_soon_days)
    left = request.due_at - now
    return {
        "overdue": open_ and left < timedelta(0),
        "due_soon": open_ and timedelta(0) <= left <= soon,
        "days_left": left.days if open_ else None,
    }


def describe(request: SubjectRequest, now: datetime, history: bool = False) -> dict[str, Any]:
    """The public JSON shape of a request (ids, states and dates; no personal values)."""
    max_due = None
    if request.jurisdiction:
        rule = request_rules.current().for_regime(request.jurisdiction)
        max_due = _iso(rule.extension.after(request.original_due_at))
    doc: dict[str, Any] = {
        "id": request.id, "kind": request.kind, "state": request.state,
        "outcome": request.outcome, "customer_id": request.customer_id,
        "matched_by": request.matched_by, "jurisdiction": request.jurisdiction,
        "jurisdictions": list(request.jurisdictions or []),
        "jurisdiction_note": request.jurisdiction_note,
        "received_at": _iso(request.received_at), "due_at": _iso(request.due_at),
        "original_due_at": _iso(request.original_due_at), "max_due_at": max_due,
        "extension": {"reason": request.extension_reason,
                      "told_at": _iso(request.extension_told_at)}
        if request.extension_reason else None,
        "owner": request.owner, "verification": request.verification,
        "refusal_reason": request.refusal_reason, "completed_at": _iso(request.completed_at),
        **flags(request, now),
    }  # fmt: skip
    if history:
        doc["history"] = events(request)
    return doc


def events(request: SubjectRequest) -> list[dict[str, Any]]:
    from sqlalchemy.orm import object_session

    session = object_session(request)
    assert session is not None
    rows = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    )
    return [{"at": _iso(e.at), "actor_id": e.actor_id, "action": e.action,
             "from": e.from_state, "to": e.to_state, "note": e.note} for e in rows]  # fmt: skip


def queue(call: Call, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Requests by due date (open ones first), with their clocks."""
    now = call.now()
    query = select(SubjectRequest)
    if state == "open":
        query = query.where(SubjectRequest.state.in_(OPEN))
    elif state:
        if state not in REQUEST_STATES:
            raise _bad("state", f"must be open or one of {', '.join(REQUEST_STATES)}")
        query = query.where(SubjectRequest.state == state)
    rows = list(call.session.scalars(query.order_by(SubjectRequest.due_at).limit(limit)))
    rows.sort(key=lambda r: (r.state not in OPEN, r.due_at))
    return [describe(r, now) for r in rows]
