"""The authorisation policy in the database (``casbin_rule``, casbin-sqlalchemy-adapter layout).

Policy changes are written through the caller's session so they commit together with their
audit entry (the adapter's own sessions would commit separately). ``policies/policy.csv`` seeds
the table and is what ``governance policy load`` reloads.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from governance.models import CasbinRule
from governance.security.authz import (
    DEFAULT_MODEL_PATH,
    DEFAULT_POLICY_PATH,
    Authorizer,
    Decision,
    PolicyLine,
    export_policy_csv,
    load_policy_csv,
    validate_policy,
)
from governance.services.context import Call


def policy_lines(session: Session) -> list[PolicyLine]:
    """The stored policy as tuples, in insertion order."""
    rows = session.scalars(select(CasbinRule).order_by(CasbinRule.id))
    return [
        tuple(v for v in (r.ptype, r.v0, r.v1, r.v2, r.v3, r.v4, r.v5) if v is not None)
        for r in rows
    ]


def build_authorizer(lines: list[PolicyLine]) -> Authorizer:
    """An authorizer over the stored lines (the CSV file when the table is still empty)."""
    return Authorizer(DEFAULT_MODEL_PATH, lines or load_policy_csv(DEFAULT_POLICY_PATH))


def load(call: Call, path: Path = DEFAULT_POLICY_PATH) -> int:
    """Replace the stored policy with a CSV file (validated first); audited. Returns rule count."""
    lines = load_policy_csv(path)
    validate_policy(lines)
    before = policy_lines(call.session)
    call.session.execute(delete(CasbinRule))
    for line in lines:
        values = list(line[1:]) + [None] * (6 - len(line[1:]))
        call.session.add(CasbinRule(ptype=line[0], v0=values[0], v1=values[1], v2=values[2],
                                    v3=values[3], v4=values[4], v5=values[5]))
    added = sorted(set(map(tuple, lines)) - set(before))
    removed = sorted(set(before) - set(map(tuple, lines)))
    call.audit.record(
        call.session, call.actor, "policy.load", now=call.now(), resource="policy",
        details={"source": path.name, "rules": len(lines),
                 "added": [", ".join(x) for x in added][:200],
                 "removed": [", ".join(x) for x in removed][:200]},
    )
    return len(lines)


def export(session: Session) -> str:
    """The stored policy as CSV."""
    return export_policy_csv(policy_lines(session))


def check(session: Session, roles: list[str], method: str, path: str) -> Decision:
    """Why ``roles`` may or may not call ``method path``."""
    return build_authorizer(policy_lines(session)).explain(roles, path, method)
