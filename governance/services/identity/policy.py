"""The authorisation policy in the database (``casbin_rule``, casbin-sqlalchemy-adapter layout).

Policy changes are written through the caller's session so they commit together with their
audit entry (the adapter's own sessions would commit separately). ``policies/policy.csv`` seeds
the table and is what ``governance policy load`` reloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from casbin.util import key_match2
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from governance.context import Call
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


def policy_lines(session: Session) -> list[PolicyLine]:
    """The stored policy as tuples, in insertion order."""
    rows = session.scalars(select(CasbinRule).order_by(CasbinRule.id))
    return [
        tuple(v for v in (r.ptype, r.v0, r.v1, r.v2, r.v3, r.v4, r.v5) if v is not None)
        for r in rows
    ]


def effective_policy(session: Session) -> tuple[str, list[PolicyLine]]:
    """The policy the guard enforces and where it comes from ("database" or the CSV file)."""
    lines = policy_lines(session)
    if lines:
        return "database", lines
    return "file", load_policy_csv(DEFAULT_POLICY_PATH)


def build_authorizer(lines: list[PolicyLine]) -> Authorizer:
    """An authorizer over the stored lines (the CSV file when the table is still empty)."""
    return Authorizer(DEFAULT_MODEL_PATH, lines or load_policy_csv(DEFAULT_POLICY_PATH))


def load(call: Call, path: Path = DEFAULT_POLICY_PATH) -> int:
    """Replace the stored policy with a CSV file (validated first); audited. Returns rule count."""
    lines = load_policy_csv(path)
    validate_policy(lines)
    before = policy_lines(call.session)
    old_max = call.session.scalar(select(func.max(CasbinRule.id))) or 0
    # New rows first, then the old ones go: ids only grow, so every load changes the
    # (count, max id) revision the guards poll (SQLite reuses ids 1..n once a table is empty).
    for line in lines:
        values = list(line[1:]) + [None] * (6 - len(line[1:]))
        call.session.add(
            CasbinRule(
                ptype=line[0],
                v0=values[0],
                v1=values[1],
                v2=values[2],
                v3=values[3],
                v4=values[4],
                v5=values[5],
            )
        )
    call.session.flush()
    call.session.execute(delete(CasbinRule).where(CasbinRule.id <= old_max))
    added = sorted(set(map(tuple, lines)) - set(before))
    removed = sorted(set(before) - set(map(tuple, lines)))
    call.audit.record(
        call.session,
        call.actor,
        "policy.load",
        now=call.now(),
        resource="policy",
        details={
            "source": path.name,
            "rules": len(lines),
            "added": [", ".join(x) for x in added][:200],
            "removed": [", ".join(x) for x in removed][:200],
        },
    )
    return len(lines)


def export(session: Session) -> str:
    """The enforced policy as CSV (the stored one, or the file while nothing is stored)."""
    return export_policy_csv(effective_policy(session)[1])


def export_audited(call: Call) -> str:
    """The enforced policy as CSV for a download, recorded in the audit log."""
    text = export(call.session)
    call.audit.record(
        call.session, call.actor, "policy.export", now=call.now(), resource="policy",
        details={"bytes": len(text.encode())},
    )  # fmt: skip
    return text


def roles_table(lines: list[PolicyLine]) -> str:
    """Markdown: one table row per declared role, then each role's allowed routes."""
    import yaml

    from governance.security.masking import DEFAULT_PATH, default_visibility

    roles = default_visibility().roles
    declared = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))["roles"]
    out = [
        "| role | kind | MFA | what it is for | customer fields in clear | masked |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, spec in roles.items():
        clear = sorted(f for f, level in spec.fields.items() if level == "clear")
        masked = sorted(f for f, level in spec.fields.items() if level == "masked")
        mfa = "required" if spec.mfa_required else "no (token only)"
        out.append(
            f"| `{name}` | {spec.kind} | {mfa} | {declared[name].get('description', '')} | "
            f"{', '.join(clear) or 'none'} | {', '.join(masked) or 'none'} |"
        )
    for name in roles:
        routes = [f"`{x[3]} {x[2]}`" for x in lines if x[0] == "p" and x[1] == name]
        out += ["", f"**{name}** may call: {', '.join(routes) or 'nothing'}."]
    return "\n".join(out) + "\n"


def check(
    session: Session, roles: list[str], method: str, path: str, routed: bool = True
) -> Decision:
    """Why ``roles`` may or may not call ``method path``; ``routed`` is false when the server
    has no route answering ``method path``: then nothing is allowed, whatever a rule says."""
    if not routed:
        return Decision(
            False, None, f"denied: the server has no route for {method} {path[:300]} "
            "(a policy rule naming it allows nothing)",
        )  # fmt: skip
    return build_authorizer(policy_lines(session)).explain(roles, path, method)


def lint(lines: list[PolicyLine], routes: Mapping[str, Iterable[str]]) -> list[str]:
    """Where the policy and the server's guarded routes (pattern -> methods) disagree.

    A rule that no route answers allows nothing and misleads whoever reviews the policy (or
    runs ``policy check``); a route that no rule names is refused to everyone (deny by
    default), which is either a forgotten rule or a route that should not exist.
    """
    samples = {pattern: set(methods) for pattern, methods in routes.items()}
    problems = []
    for line in lines:
        if line[0] != "p":
            continue
        _, role, route, methods = line
        for method in methods.split("|"):
            if not any(
                method in allowed and key_match2(_sample(pattern), route)
                for pattern, allowed in samples.items()
            ):
                problems.append(f"rule 'p, {role}, {route}, {methods}': no route {method} {route}")
    authz = build_authorizer(lines)
    roles = sorted({line[1] for line in lines if line[0] == "p"})
    for pattern, answered in sorted(samples.items()):
        for method in sorted(answered):
            if not any(authz.allowed([role], pattern, method) for role in roles):
                problems.append(f"route {method} {pattern}: no rule allows any role to call it")
    return problems


def _sample(pattern: str) -> str:
    """A concrete path of a keyMatch2 route pattern (``/customers/:id`` -> ``/customers/x``)."""
    return "/".join("x" if part.startswith(":") else part for part in pattern.split("/"))


def roles_of(call: Call, subject: str) -> list[str]:
    """The roles of SUBJECT: a user's (an email), a service account's (its name), else the
    subject itself taken as a role name."""
    from governance.models import ServiceAccount, User

    if "@" in subject:
        email = subject.strip().lower()
        user = call.session.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            return list(user.roles)
    account = call.session.scalars(
        select(ServiceAccount).where(ServiceAccount.name == subject)
    ).first()
    return list(account.roles) if account else [subject]


def load_if_empty(call: Call) -> int | None:
    """Load the default policy file when no rule is stored (a first start); None if some are."""
    if call.session.scalar(select(CasbinRule.id).limit(1)) is not None:
        return None
    return load(call)
