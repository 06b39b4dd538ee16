"""Affected-subject analysis: whose data did this incident expose, and could it be read?

Three scopes: a list of customer ids; a query (country, data category, creation window); or
everything a token, service account or user read in a time window, taken from the audit log.
The log's entries hold the actor, the subjects and the level each field was shown at (clear,
masked, hidden), so "what exactly did this token read" is answered from a verifiable record,
walking the ``(actor_id, timestamp)`` index. A token's reads are its service account's entries
within the token's lifetime (entries name the account). For the other scopes the data is counted
as "encrypted" (ciphertext at rest, keys not exposed) unless the incident records exposed keys.

It runs as a job with progress; the result is kept with the incident: the ids (and readability)
in ``incident_subjects``, counts by regime, country, data category and readability on the
incident. No personal value is read. An empty scope is an answer, said plainly.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, func, select, text

from governance.context import Call
from governance.errors import ValidationError
from governance.models import (
    ApiToken,
    AuditEntry,
    Customer,
    Incident,
    IncidentSubject,
    ServiceAccount,
    User,
)
from governance.models.ids import is_id
from governance.policyfiles import load_field_rules
from governance.security.masking import CLEAR, HIDDEN, MASKED, default_visibility
from governance.services.auditlog.append import rfc3339
from governance.services.breach import incidents, tasks
from governance.services.customers.normalise import parse_timestamp
from governance.services.jobs import queue as jobs

KIND = "breach.analysis"
BATCH = 5000
READ_ACTIONS = ("customer.read", "customer.list", "order.list", "interaction.list")
RECORD_FIELDS = {"order.list": ("items", "comment"), "interaction.list": ("note",)}
ENCRYPTED = "encrypted"
RANK = {HIDDEN: 0, ENCRYPTED: 1, MASKED: 2, CLEAR: 3}
ACTOR_KINDS = ("token", "service_account", "user")
INSERT_SUBJECT = text(
    "INSERT INTO incident_subjects (incident_id, customer_id, readability, fields) "
    "VALUES (:i, :c, :r, :f)"
)
QUERY_KEYS = ("country", "data_category", "created_from", "created_to")


@cache
def sensitive_fields() -> dict[str, str]:
    """Sensitive field -> its table (``fields.yaml``): the data categories of a breach."""
    return {name: table for (table, name), rule in load_field_rules().items() if rule.sensitive}


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError(
        "the analysis scope is not valid", [{"field": field, "message": message}]
    )


def check_scope(call: Call, scope: Any) -> dict[str, Any]:
    """The scope as stored on the job: exactly one of customer_ids, query, actor; 422 otherwise."""
    if (
        not isinstance(scope, dict)
        or len(scope) != 1
        or next(iter(scope))
        not in (
            "customer_ids",
            "query",
            "actor",
        )
    ):
        raise _bad("scope", "give exactly one of customer_ids, query, actor")
    kind, value = next(iter(scope.items()))
    if kind == "customer_ids":
        if not isinstance(value, list) or not all(is_id(v) for v in value):
            raise _bad("scope.customer_ids", "must be a list of customer ids")
        return {"customer_ids": list(dict.fromkeys(value))}
    if not isinstance(value, dict):
        raise _bad(f"scope.{kind}", "must be an object")
    if kind == "query":
        unknown = sorted(set(value) - set(QUERY_KEYS))
        if unknown:
            raise _bad(f"scope.query.{unknown[0]}", "is not a query field")
        category = value.get("data_category")
        if category is not None and category not in sensitive_fields():
            raise _bad("scope.query.data_category", f"one of {', '.join(sensitive_fields())}")
        country = value.get("country")
        if country is not None and (not isinstance(country, str) or len(country) != 2):
            raise _bad("scope.query.country", "an ISO 3166-1 alpha-2 code")
        out = {"country": country.upper() if country else None, "data_category": category}
        for name in ("created_from", "created_to"):
            out[name] = _when(value.get(name), f"scope.query.{name}", required=False)
        return {"query": out}
    unknown = sorted(set(value) - {"type", "id", "from", "to"})
    if unknown:
        raise _bad(f"scope.actor.{unknown[0]}", "is not an actor field")
    if value.get("type") not in ACTOR_KINDS:
        raise _bad("scope.actor.type", f"one of {', '.join(ACTOR_KINDS)}")
    if not isinstance(value.get("id"), str) or not value["id"].strip():
        raise _bad("scope.actor.id", "is required")
    start = _when(value.get("from"), "scope.actor.from", required=True)
    end = _when(value.get("to"), "scope.actor.to", required=False) or rfc3339(call.now())
    if end <= (start or ""):
        raise _bad("scope.actor.to", "must be after from")
    return {"actor": {"type": value["type"], "id": value["id"].strip(), "from": start, "to": end}}


def _when(value: Any, field: str, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            raise _bad(field, "is required (ISO 8601 time)")
        return None
    try:
        return rfc3339(parse_timestamp(value))
    except (ValueError, TypeError, AssertionError, OverflowError):
        raise _bad(field, "must be an ISO 8601 time") from None


def submit(call: Call, incident: Incident, scope: Any, foreground: bool = False) -> Any:
    """Queue the analysis job for ``incident`` (audited; not committed)."""
    checked = check_scope(call, scope)
    job = jobs.submit(call, KIND, {"incident_id": incident.id, "scope": checked}, foreground)
    incidents.event(call, incident, "analysis", details={"job_id": job.id, "scope": list(checked)})
    incidents.audit(call, incident, "incident.analysis.submit", job_id=job.id, scope=list(checked))
    return job


@jobs.register(KIND)
def run_analysis(ctx: jobs.JobContext) -> dict[str, Any]:
    """The job: find the subjects, keep them with the incident, count them, sync the tasks."""
    call = ctx.call
    incident = incidents.get(call, ctx.params["incident_id"])
    scope = ctx.params["scope"]
    found: dict[str, tuple[str, set[str]]]
    note = ""
    entries = 0
    if "customer_ids" in scope:
        found = _by_ids(call, incident, scope["customer_ids"], ctx)
    elif "query" in scope:
        found = _by_query(call, incident, scope["query"], ctx)
    else:
        found, entries, note = _by_actor(call, scope["actor"], ctx)
    summary = keep(call, incident, found, _describe(scope), entries, note)
    summary["job_id"] = ctx.job.id
    incident.analysis = summary
    incidents.event(
        call,
        incident,
        "analysis_done",
        details={
            "job_id": ctx.job.id,
            "affected": summary["affected"],
            "by_regime": summary["by_regime"],
        },
    )
    incidents.audit(
        call,
        incident,
        "incident.analysis",
        affected=summary["affected"],
        entries_read=entries,
        job_id=ctx.job.id,
    )
    return {"incident_id": incident.id, **{k: summary[k] for k in ("affected", "message")}}


def _describe(scope: dict[str, Any]) -> str:
    if "customer_ids" in scope:
        return f"{len(scope['customer_ids'])} customer id(s) given"
    if "query" in scope:
        parts = [f"{k}={v}" for k, v in scope["query"].items() if v]
        return "customers where " + (", ".join(parts) if parts else "(every customer)")
    a = scope["actor"]
    return f"everything {a['type']} {a['id']} read from {a['from']} to {a['to']}"


def _at_rest(incident: Incident) -> tuple[str, set[str]]:
    level = CLEAR if incident.keys_exposed else ENCRYPTED
    named = [c for c in incident.data_categories or [] if c in sensitive_fields()]
    return level, set(named or [f for f, t in sensitive_fields().items() if t == "customers"])


def _by_ids(
    call: Call, incident: Incident, ids: list[str], ctx: jobs.JobContext
) -> dict[str, tuple[str, set[str]]]:
    level, fields = _at_rest(incident)
    found: dict[str, tuple[str, set[str]]] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        query = select(Customer.id).where(Customer.id.in_(chunk))
        found.update({cid: (level, set(fields)) for cid in call.session.scalars(query)})
        ctx.progress(min(start + BATCH, len(ids)), len(ids))
    return found


def _by_query(
    call: Call, incident: Incident, spec: dict[str, Any], ctx: jobs.JobContext
) -> dict[str, tuple[str, set[str]]]:
    level, fields = _at_rest(incident)
    query = select(Customer.id)
    if spec.get("country"):
        query = query.where(Customer.country == spec["country"])
    if spec.get("created_from"):
        query = query.where(Customer.created_at >= parse_timestamp(spec["created_from"]))
    if spec.get("created_to"):
        query = query.where(Customer.created_at < parse_timestamp(spec["created_to"]))
    category = spec.get("data_category")
    if category:
        query = query.where(_has_category(category))
        fields = {category}
    found = {cid: (level, set(fields)) for cid in call.session.scalars(query)}
    ctx.progress(len(found), len(found))
    return found


def _has_category(category: str) -> Any:
    from governance.models import Interaction, Order

    table = sensitive_fields()[category]
    if table == "customers":
        return getattr(Customer, f"{category}_ct").is_not(None)
    model: Any = Order if table == "orders" else Interaction
    column = getattr(model, f"{category}_ct")
    return select(model.id).where(model.customer_id == Customer.id, column.is_not(None)).exists()


def resolve_actor(call: Call, spec: dict[str, Any]) -> tuple[str, str, str, str]:
    """(audit actor id, from, to, note) of an actor scope; a token narrows to its lifetime."""
    kind, ident, start, end = spec["type"], spec["id"], spec["from"], spec["to"]
    if kind == "token":
        token = call.session.get(ApiToken, ident)
        if token is None:
            raise _bad("scope.actor.id", "no such token")
        start = max(start, rfc3339(token.created_at))
        if token.revoked_at is not None:
            end = min(end, rfc3339(token.revoked_at))
        note = (
            f"token {ident} acts as service account {token.service_account_id}: its reads "
            "are that account's entries within the token's lifetime"
        )
        return token.service_account_id, start, end, note
    model: Any = ServiceAccount if kind == "service_account" else User
    if call.session.get(model, ident) is None:
        raise _bad("scope.actor.id", f"no such {kind.replace('_', ' ')}")
    return ident, start, end, ""


def actor_reads(actor_id: str, start: str, end: str, after: str, limit: int) -> Any:
    """One batch of an actor's allowed reads in [start, end) from ``after``: the index range."""
    return (
        select(
            AuditEntry.seq,
            AuditEntry.timestamp,
            AuditEntry.action,
            AuditEntry.subject_id,
            AuditEntry.actor_role,
            AuditEntry.leaf,
        )
        .where(AuditEntry.actor_id == actor_id)
        .where(AuditEntry.timestamp >= max(start, after), AuditEntry.timestamp < end)
        .where(AuditEntry.action.in_(READ_ACTIONS), AuditEntry.outcome == "allowed")
        .order_by(AuditEntry.timestamp)
        .limit(limit)
    )


def _by_actor(
    call: Call, spec: dict[str, Any], ctx: jobs.JobContext
) -> tuple[dict[str, tuple[str, set[str]]], int, str]:
    actor_id, start, end, note = resolve_actor(call, spec)
    total = call.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.actor_id == actor_id)
        .where(AuditEntry.timestamp >= start, AuditEntry.timestamp < end)
    )
    best: Best = {}
    after, seen, done, limit = start, set[int](), 0, BATCH
    while True:
        rows = call.session.execute(actor_reads(actor_id, start, end, after, limit)).all()
        fresh = [r for r in rows if r.seq not in seen]
        for row in fresh:
            _take(best, row)
        done += len(fresh)
        if len(rows) < limit:
            break
        if rows[0].timestamp == rows[-1].timestamp:
            limit *= 2  # one instant holds the whole batch: widen it, never loop
            continue
        after = rows[-1].timestamp
        seen = {r.seq for r in rows if r.timestamp == after}
        ctx.progress(done, total)
    ctx.progress(done, max(done, total or 0))
    names = {v: k for k, v in RANK.items()}
    return {s: (names[rank], set(fields)) for s, (rank, fields) in best.items()}, done, note


Best = dict[str, tuple[int, frozenset[str]]]
_LEVELS: dict[tuple[tuple[str, str], ...], tuple[int, frozenset[str]]] = {}


def _exposure(levels: dict[str, str]) -> tuple[int, frozenset[str]]:
    """(best rank, exposed sensitive fields) of a field-level map; memoised (few distinct maps)."""
    key = tuple(levels.items())  # leaves are canonical JSON: the same map, the same order
    found = _LEVELS.get(key)
    if found is None:
        exposed = frozenset(
            f for f, lv in levels.items() if lv != HIDDEN and f in sensitive_fields()
        )
        found = (max((RANK.get(levels[f], 0) for f in exposed), default=0), exposed)
        if len(_LEVELS) < 10_000:
            _LEVELS[key] = found
    return found


def _take(best: Best, row: Any) -> None:
    details = json.loads(row.leaf).get("details", {})
    if row.action == "customer.list":
        subjects = details.get("subjects") or []
        levels = details.get("fields") or {}
    elif row.action == "customer.read":
        subjects, levels = [row.subject_id], details.get("fields") or {}
    else:  # a customer's orders or interactions: the levels of the role the actor held
        subjects = [row.subject_id]
        roles = (row.actor_role or "").split("+")
        policy = default_visibility()
        levels = {f: policy.level(roles, f) for f in RECORD_FIELDS[row.action]}
    rank, exposed = _exposure(levels)
    for subject in subjects:
        if not subject:
            continue
        old = best.get(subject)
        if old is None:
            best[subject] = (rank, exposed)
        elif rank > old[0] or not exposed <= old[1]:
            best[subject] = (max(rank, old[0]), old[1] | exposed)


def set_affected_ids(call: Call, incident: Incident, ids: list[str], source: str) -> None:
    """Affected customers known without a job (given at creation): kept, counted, tasks synced."""
    level, fields = _at_rest(incident)
    existing = call.session.scalars(select(Customer.id).where(Customer.id.in_(ids)))
    found = {cid: (level, set(fields)) for cid in existing}
    incident.analysis = keep(call, incident, found, source, 0, "")


def keep(
    call: Call,
    incident: Incident,
    found: dict[str, tuple[str, set[str]]],
    scope: str,
    entries: int,
    note: str,
) -> dict[str, Any]:
    """Replace the incident's affected subjects with ``found``; return the counts."""
    session = call.session
    session.execute(delete(IncidentSubject).where(IncidentSubject.incident_id == incident.id))
    serialised: dict[frozenset[str], str] = {}
    rows = []
    for cid, (level, fields) in found.items():
        key = frozenset(fields)
        if key not in serialised:
            serialised[key] = json.dumps(sorted(key))
        rows.append({"i": incident.id, "c": cid, "r": level, "f": serialised[key]})
    # The JSON column's values are serialised once per distinct field set, not once per row.
    for start in range(0, len(rows), BATCH):
        session.execute(INSERT_SUBJECT, rows[start : start + BATCH])
    categories: Counter[str] = Counter(f for _, fields in found.values() for f in fields)
    readability: Counter[str] = Counter(level for level, _ in found.values())
    by_regime = tasks.regime_counts(call, incident)
    by_country = _by_country(call, incident)
    message = (
        f"{len(found)} affected customer(s)"
        if found
        else f"no customer matched the scope ({scope}): nobody is known to be affected"
    )
    tasks.sync(call, incident)
    return {
        "scope": scope,
        "affected": len(found),
        "message": message,
        "note": note,
        "entries_read": entries,
        "by_regime": by_regime,
        "by_country": by_country,
        "by_category": dict(sorted(categories.items())),
        "readability": {k: readability.get(k, 0) for k in (CLEAR, MASKED, HIDDEN, ENCRYPTED)},
        "at": rfc3339(call.now()),
    }


def _by_country(call: Call, incident: Incident) -> dict[str, int]:
    query = (
        select(Customer.country, func.count())
        .join(IncidentSubject, IncidentSubject.customer_id == Customer.id)
        .where(IncidentSubject.incident_id == incident.id)
        .group_by(Customer.country)
    )
    return {country or "unknown": int(n) for country, n in call.session.execute(query)}


def when_iso(moment: datetime) -> str:
    """A time as the scope stores it."""
    return rfc3339(moment)
