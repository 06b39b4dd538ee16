"""Retention sweeps: the plan (a dry run that changes nothing) and the run (a resumable job).

``plan`` counts, per rule, what has expired, with example ids and the reason; ``on_hold`` counts
what would have expired but a legal hold keeps. ``run`` removes it in batches of ``BATCH``
subjects, each batch its own transaction (a sweep of 100,000 subjects never holds a long lock),
each removal recorded in ``retention_removals`` and audited; the job's checkpoint holds the rule
reached and the counts, and the cutoff moment is fixed at the start, so a resumed run finishes
the same sweep.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from governance.context import Call
from governance.models import Job, RetentionRemoval
from governance.services.auditlog.append import rfc3339
from governance.services.customers import normalise as norm
from governance.services.jobs import queue as jobs
from governance.services.jobs.schedule import register_schedule
from governance.services.retention import rules as retention_rules
from governance.services.retention.holds import held_categories
from governance.services.retention.rules import RetentionPolicy, RetentionRule
from governance.services.retention.targets import NOT_HERE, TARGETS, cutoff, expired_ids

KIND = "retention.sweep"
BATCH = 500
EXAMPLES = 5


def _reason(rule: RetentionRule, now: datetime) -> str:
    if not rule.expires:
        return f"kept: {rule.legal_reference}"
    since = rfc3339(cutoff(rule, now))[:10]
    event = rule.event.replace("_", " ")
    return (
        f"{rule.category.replace('_', ' ')} past {rule.period_days} days from {event} "
        f"(before {since}): {rule.action.replace('_', '-')} under {rule.legal_reference}"
    )


def _count(call: Call, query: Any) -> int:
    return int(call.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def plan(call: Call, policy: RetentionPolicy | None = None) -> dict[str, Any]:
    """The dry run: ``{"rules": [{"rule", "category", "action", "count", "examples", ...}],
    "on_hold": N}``. Changes nothing."""
    policy = policy or retention_rules.current()
    now = call.now()
    held = held_categories(call)
    out: list[dict[str, Any]] = []
    on_hold = 0
    for rule in policy.rules:
        item: dict[str, Any] = {
            "rule": rule.id,
            "category": rule.category,
            "action": rule.action,
            "count": 0,
            "examples": [],
            "period_days": rule.period_days,
            "from": rule.event,
            "reason": _reason(rule, now),
            "legal_reference": rule.legal_reference,
            "held": rule.category in held,
        }
        target = TARGETS.get(rule.category)
        if target is None or not rule.expires or rule.action not in target.actions:
            item["note"] = NOT_HERE.get(rule.category, "no expiry for this rule")
            out.append(item)
            continue
        query = expired_ids(target, rule, now)
        every = _count(call, expired_ids(target, rule, now, honour_holds=False))
        if rule.category in held:
            on_hold += every
            item["note"] = "the whole category is under legal hold"
        else:
            count = _count(call, query)
            on_hold += every - count
            item["count"] = count
            item["examples"] = list(call.session.scalars(query.limit(EXAMPLES)))
        out.append(item)
    return {"rules": out, "on_hold": on_hold, "at": rfc3339(now)}


def start(call: Call, foreground: bool = False) -> Job:
    """Queue a sweep (not committed): the cutoffs are fixed at the moment it starts."""
    return jobs.submit(call, KIND, {"now": rfc3339(call.now())}, foreground=foreground)


def _scheduled_params() -> dict[str, Any]:
    return {"now": rfc3339(datetime.now(UTC))}


register_schedule("retention.sweep", KIND, "RETENTION_EVERY_HOURS", 24, _scheduled_params)


@jobs.register(KIND)
def _sweep(ctx: jobs.JobContext) -> dict[str, Any]:
    call = ctx.call
    now = norm.parse_timestamp(ctx.params.get("now") or rfc3339(call.now()))
    policy = retention_rules.current()
    saved = ctx.saved
    removed: dict[str, int] = dict(saved.get("removed") or {})
    total = saved.get("total")
    if total is None:
        planned = plan(_at(call, now), policy)
        total = sum(item["count"] for item in planned["rules"])
        ctx.progress(0, total, {"rule": 0, "removed": removed, "total": total})
    done = sum(removed.values())
    held = held_categories(call)
    for index, rule in enumerate(policy.rules):
        if index < int(saved.get("rule", 0)):
            continue
        target = TARGETS.get(rule.category)
        if target is None or not rule.expires or rule.category in held:
            continue
        apply = target.actions.get(rule.action)
        if apply is None:
            continue
        while True:
            ids: list[str] = list(call.session.scalars(expired_ids(target, rule, now).limit(BATCH)))
            if not ids:
                break
            apply(call, ids, call.now())
            _record(call, ctx.job.id, rule, ids)
            removed[rule.id] = removed.get(rule.id, 0) + len(ids)
            done += len(ids)
            checkpoint = {"rule": index, "removed": removed, "total": total}
            ctx.progress(done, max(total, done), checkpoint)  # commits this batch
    return {"removed": removed, "total": done, "at": rfc3339(now)}


def _at(call: Call, now: datetime) -> Call:
    return replace(call, clock=lambda: now)


def _record(call: Call, job_id: str, rule: RetentionRule, ids: list[str]) -> None:
    """The removals of one batch: a row each, and an audit entry each (ids only)."""
    now = call.now()
    call.session.execute(
        RetentionRemoval.__table__.insert(),
        [
            {"job_id": job_id, "rule": rule.id, "category": rule.category,
             "action": rule.action, "subject_id": i, "removed_at": now}
            for i in ids
        ],
    )  # fmt: skip
    customer_bound = rule.category == "customer_profile"
    # Queue the batch's entries in one INSERT, then integrate them once (not once per entry):
    # the same transaction either way, so each removal and its entry still commit together.
    queued = replace(call.audit, inline=False)
    entries = [
        {"action": "retention.remove", "resource": rule.category,
         "subject_id": subject if customer_bound else None,
         "details": {"rule": rule.id, "action": rule.action, "record_id": subject}}
        for subject in ids
    ]  # fmt: skip
    queued.record_many(call.session, call.actor, entries, now=now)
    if call.audit.inline:
        call.audit.integrate(call.session, now)


def runs(call: Call, limit: int = 20) -> list[dict[str, Any]]:
    """The latest sweeps (jobs) as the API shows them."""
    query = select(Job).where(Job.kind == KIND).order_by(Job.created_at.desc()).limit(limit)
    return [jobs.describe(j) for j in call.session.scalars(query)]


def removals_by_rule(
    call: Call, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """How many subjects each rule removed in a period (for the retention report)."""
    query = select(
        RetentionRemoval.rule,
        RetentionRemoval.category,
        RetentionRemoval.action,
        func.count(),
        func.min(RetentionRemoval.removed_at),
        func.max(RetentionRemoval.removed_at),
    ).group_by(RetentionRemoval.rule, RetentionRemoval.category, RetentionRemoval.action)
    if start is not None:
        query = query.where(RetentionRemoval.removed_at >= start)
    if end is not None:
        query = query.where(RetentionRemoval.removed_at < end)
    return [
        {"rule": r, "category": c, "action": a, "count": n,
         "first": rfc3339(lo) if lo else None, "last": rfc3339(hi) if hi else None}
        for r, c, a, n, lo, hi in call.session.execute(query.order_by(RetentionRemoval.rule))
    ]  # fmt: skip
