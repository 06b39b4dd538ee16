"""Route authorisation with Casbin RBAC: may a principal holding these roles call METHOD PATH?

The model (``policies/rbac_model.conf``) matches a role, a route pattern in Casbin's
``keyMatch2`` syntax (``/api/v1/customers/:id``) and an HTTP method list (``GET|PATCH``).
Deny by default: a request is allowed only when some rule for one of the principal's roles
matches. Policy lines are plain tuples, ``("p", role, route, methods)`` or
``("g", member, role)``, so they can come from ``policies/policy.csv`` or from the database
(casbin-sqlalchemy-adapter rows) alike.

Decisions are cached per (roles, path, method); call ``Authorizer.reload`` after any policy
change. Pass the route *pattern* (Flask's ``request.url_rule.rule``) rather than the concrete
path so the cache stays small; the cache is also bounded and simply emptied when full.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from governance.errors import ValidationError
from governance.security.masking import default_visibility

PolicyLine = tuple[str, ...]

_POLICIES = Path(__file__).resolve().parents[2] / "policies"
DEFAULT_MODEL_PATH = _POLICIES / "rbac_model.conf"
DEFAULT_POLICY_PATH = _POLICIES / "policy.csv"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_CACHE_ENTRIES = 10_000
_ARITY = {"p": 4, "g": 3}
_SEGMENT = r"(?:[A-Za-z0-9_~\-]+|:[A-Za-z_][A-Za-z0-9_]*|\*)"
_ROUTE = re.compile(rf"/(?:{_SEGMENT}(?:/{_SEGMENT})*)?")
_METHODS = re.compile(r"[A-Z]+(?:\|[A-Z]+)*")
_SUBJECT = re.compile(r"[A-Za-z0-9_.:@\-]{1,128}")


class PolicyError(ValidationError):
    """A policy is malformed; ``errors`` names each offending line."""

    slug = "invalid-policy"
    title = "Invalid authorisation policy"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems), errors=[{"message": p} for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class Decision:
    """The outcome of one check, with the rule that allowed it and a readable reason."""

    allowed: bool
    matched_rule: PolicyLine | None
    reason: str


@dataclass
class _State:
    enforcer: casbin.Enforcer
    roles_with_rules: frozenset[str]
    cache: dict[tuple[frozenset[str], str, str], bool] = field(default_factory=dict)


class Authorizer:
    """A Casbin enforcer for one policy, with a decision cache."""

    def __init__(
        self,
        model_path: str | Path,
        policy_lines: Sequence[PolicyLine],
        *,
        known_roles: Iterable[str] | None = None,
        max_cache_entries: int = MAX_CACHE_ENTRIES,
    ) -> None:
        self._model_path = str(model_path)
        self._known_roles = None if known_roles is None else frozenset(known_roles)
        self._max_cache_entries = max_cache_entries
        self._state = self._build(policy_lines)

    @classmethod
    def from_files(
        cls,
        model_path: str | Path = DEFAULT_MODEL_PATH,
        policy_path: str | Path = DEFAULT_POLICY_PATH,
    ) -> Authorizer:
        """An authorizer for the repository's (or the given) model and CSV policy."""
        return cls(model_path, load_policy_csv(policy_path))

    def reload(self, policy_lines: Sequence[PolicyLine]) -> None:
        """Replace the policy and drop every cached decision (validates first)."""
        self._state = self._build(policy_lines)  # one assignment: readers see old or new

    def allowed(self, roles: Iterable[str], path: str, method: str) -> bool:
        """True if any of ``roles`` may call ``method`` on ``path`` (a route pattern or path)."""
        state = self._state
        key = (roles if isinstance(roles, frozenset) else frozenset(roles), path, method)
        try:
            return state.cache[key]
        except KeyError:
            pass
        result = self._decide(state, key[0], path, method).allowed
        if len(state.cache) >= self._max_cache_entries:
            state.cache.clear()
        state.cache[key] = result
        return result

    def explain(self, roles: Iterable[str], path: str, method: str) -> Decision:
        """The decision for this request with the matching rule and why (uncached)."""
        return self._decide(self._state, frozenset(roles), path, method)

    def _build(self, policy_lines: Sequence[PolicyLine]) -> _State:
        lines = [tuple(line) for line in policy_lines]
        validate_policy(lines, known_roles=self._known_roles)
        enforcer = casbin.Enforcer(self._model_path)
        p_rules = [list(line[1:]) for line in lines if line[0] == "p"]
        g_rules = [list(line[1:]) for line in lines if line[0] == "g"]
        if p_rules:
            enforcer.add_policies(p_rules)
        if g_rules:
            enforcer.add_named_grouping_policies("g", g_rules)
        subjects = frozenset(line[1] for line in lines)
        return _State(enforcer, subjects)

    @staticmethod
    def _decide(state: _State, roles: frozenset[str], path: str, method: str) -> Decision:
        method = method.upper()
        if method == "HEAD":
            method = "GET"  # HEAD is a GET without the body: same data, same right
        if not roles:
            return Decision(False, None, "denied: the principal holds no role")
        if method not in HTTP_METHODS:
            return Decision(False, None, f"denied: unsupported method {method[:16]!r}")
        for role in sorted(roles):
            ok, rule = state.enforcer.enforce_ex(role, path, method)
            if ok:
                matched = ("p", *rule)
                return Decision(
                    True, matched, f"allowed: role {role!r} matches rule '{', '.join(matched)}'"
                )
        reason = f"denied: no rule for role(s) {', '.join(sorted(roles))} matches {method} {path}"
        unruled = sorted(roles - state.roles_with_rules)
        if unruled:
            reason += f"; role(s) with no rules at all: {', '.join(unruled)}"
        return Decision(False, None, reason + " (deny by default)")


def load_policy_csv(path: str | Path) -> list[PolicyLine]:
    """Read a Casbin CSV policy (``#`` comments, blank lines) into tuples; syntax-checked."""
    lines: list[PolicyLine] = []
    problems: list[str] = []
    text = Path(path).read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = tuple(part.strip() for part in stripped.split(","))
        if _ARITY.get(fields[0]) != len(fields):
            problems.append(
                f"line {number}: expected 'p, ROLE, ROUTE, METHODS' or 'g, MEMBER, ROLE'"
            )
            continue
        lines.append(fields)
    if problems:
        raise PolicyError(problems)
    return lines


def export_policy_csv(lines: Sequence[PolicyLine]) -> str:
    """Render policy lines as CSV, grouped by role in first-seen order, loadable again."""
    groups: dict[str, list[PolicyLine]] = {}
    for line in lines:
        groups.setdefault(line[2] if line[0] == "g" else line[1], []).append(tuple(line))
    out = ["# Exported authorisation policy: p, ROLE, ROUTE, METHODS / g, MEMBER, ROLE"]
    for role, group in groups.items():
        out += ["", f"# --- {role}"] + [", ".join(line) for line in group]
    return "\n".join(out) + "\n"


def validate_policy(
    lines: Sequence[PolicyLine], *, known_roles: Iterable[str] | None = None
) -> None:
    """Raise ``PolicyError`` naming every malformed line or unknown role.

    ``known_roles`` defaults to the roles declared in ``policies/visibility.yaml``.
    """
    known = frozenset(default_visibility().known_roles if known_roles is None else known_roles)
    problems: list[str] = []
    seen: set[PolicyLine] = set()
    for number, line in enumerate(lines, start=1):
        problem = _line_problem(line, known)
        if problem is None and tuple(line) in seen:
            problem = "duplicate rule"
        if problem is not None:
            problems.append(f"rule {number} ({', '.join(map(str, line))[:200]}): {problem}")
        seen.add(tuple(line))
    if problems:
        raise PolicyError(problems)


def _line_problem(line: PolicyLine, known: frozenset[str]) -> str | None:
    if not line or not all(isinstance(part, str) for part in line):
        return "expected a non-empty tuple of strings"
    if _ARITY.get(line[0]) != len(line):
        return "expected ('p', ROLE, ROUTE, METHODS) or ('g', MEMBER, ROLE)"
    if line[0] == "g":
        member, role = line[1], line[2]
        if not _SUBJECT.fullmatch(member):
            return "member must be 1-128 letters, digits or _.:@-"
        return None if role in known else f"unknown role {role!r}"
    _, role, route, methods = line
    if role not in known:
        return f"unknown role {role!r}"
    if not _ROUTE.fullmatch(route):
        return "route must be an absolute path pattern like /api/v1/customers/:id"
    if not _METHODS.fullmatch(methods):
        return "methods must be upper-case HTTP methods joined by '|'"
    listed = methods.split("|")
    if not set(listed) <= HTTP_METHODS or len(set(listed)) != len(listed):
        return "methods must be distinct HTTP methods (GET, POST, PUT, PATCH, DELETE, ...)"
    return None
