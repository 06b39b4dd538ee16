"""Casbin RBAC: the real policies/ files, deny by default, the decision cache, explain."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.security.authz import (
    DEFAULT_MODEL_PATH,
    DEFAULT_POLICY_PATH,
    Authorizer,
    PolicyError,
    export_policy_csv,
    load_policy_csv,
    validate_policy,
)
from governance.security.masking import default_visibility, requires_mfa

POLICY = load_policy_csv(DEFAULT_POLICY_PATH)
AUTHZ = Authorizer(DEFAULT_MODEL_PATH, POLICY)

# (role, method, path, allowed): representative calls per role, concrete paths and patterns.
CASES = [
    ("admin", "GET", "/api/v1/users", True),
    ("admin", "POST", "/api/v1/keys/rotate", True),
    ("admin", "DELETE", "/api/v1/tokens/abcdefgh2345", True),
    ("admin", "GET", "/api/v1/policy/export", True),
    ("admin", "GET", "/api/v1/customers", False),
    ("admin", "GET", "/api/v1/customers/<id>", False),
    ("admin", "GET", "/api/v1/audit/entries", False),
    ("dpo", "GET", "/api/v1/customers/1b2c", True),
    ("dpo", "POST", "/api/v1/customers/<id>/erase", False),  # no such route, so no rule
    ("dpo", "DELETE", "/api/v1/customers/:id", True),
    ("dpo", "POST", "/api/v1/audit/checkpoints", True),
    ("dpo", "PATCH", "/api/v1/pii/findings/42", True),
    ("dpo", "POST", "/api/v1/keys/rotate", False),
    ("dpo", "POST", "/api/v1/users", False),
    ("dpo", "POST", "/api/v1/customers/<id>/orders", False),
    ("support", "GET", "/api/v1/customers", True),
    ("support", "PATCH", "/api/v1/customers/<id>", True),
    ("support", "POST", "/api/v1/customers/<id>/interactions", True),
    ("support", "GET", "/customers/<id>", True),
    ("support", "DELETE", "/api/v1/customers/<id>", False),
    ("support", "POST", "/api/v1/customers/<id>/erase", False),
    ("support", "GET", "/api/v1/customers/<id>/orders", False),
    ("support", "GET", "/api/v1/users", False),
    ("support", "POST", "/api/v1/keys/rotate", False),
    ("analyst", "GET", "/api/v1/quality", True),
    ("analyst", "GET", "/api/v1/reports/data-inventory", True),
    ("analyst", "GET", "/api/v1/reports/audit-trail", False),
    ("analyst", "GET", "/api/v1/customers", False),
    ("auditor", "GET", "/api/v1/audit/entries", True),
    ("auditor", "GET", "/api/v1/audit/proof/consistency", True),
    ("auditor", "POST", "/api/v1/audit/verify", True),
    ("auditor", "GET", "/api/v1/policy", True),
    ("auditor", "POST", "/api/v1/audit/checkpoints", True),  # issue 5: auditors may ask for one
    ("auditor", "GET", "/api/v1/customers/<id>", False),
    ("auditor", "GET", "/customers", False),
    ("crm_app", "POST", "/api/v1/customers", True),
    ("crm_app", "PATCH", "/api/v1/customers/<id>", True),
    ("crm_app", "POST", "/api/v1/customers/<id>/orders", True),
    ("crm_app", "POST", "/api/v1/imports", True),
    ("crm_app", "GET", "/api/v1/jobs/<id>", True),
    ("crm_app", "DELETE", "/api/v1/customers/<id>", False),
    ("crm_app", "POST", "/api/v1/customers/<id>/erase", False),
    ("crm_app", "GET", "/api/v1/audit/entries", False),
    ("crm_app", "GET", "/customers", False),
]


@pytest.mark.parametrize(("role", "method", "path", "expected"), CASES)
def test_representative_decisions(role: str, method: str, path: str, expected: bool) -> None:
    assert AUTHZ.allowed([role], path, method) is expected
    assert AUTHZ.explain([role], path, method).allowed is expected


@pytest.mark.parametrize("role", sorted(default_visibility().known_roles))
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/not-a-route"),
        ("GET", "/api/v1/customers/<id>/secret"),
        ("GET", "/api/v1/customers/"),  # trailing slash is another route
        ("GET", "/api/v1/customers/a/b"),  # :id is one segment only
        ("PUT", "/api/v1/customers/<id>"),  # no role may PUT
        ("TRACE", "/api/v1/customers"),
        ("GET", "/admin"),
    ],
)
def test_deny_by_default(role: str, method: str, path: str) -> None:
    assert AUTHZ.allowed([role], path, method) is False


def test_unknown_role_and_no_role_are_denied() -> None:
    assert AUTHZ.allowed(["root"], "/api/v1/customers", "GET") is False
    assert AUTHZ.allowed([], "/api/v1/customers", "GET") is False


def test_roles_combine_and_head_counts_as_get() -> None:
    assert AUTHZ.allowed(["analyst", "auditor"], "/api/v1/audit/entries", "GET")
    assert AUTHZ.allowed(["analyst", "auditor"], "/api/v1/quality", "GET")
    assert AUTHZ.allowed(["auditor"], "/api/v1/audit/entries", "HEAD")
    assert AUTHZ.allowed(["auditor"], "/api/v1/audit/entries", "get")


def test_explain_names_the_rule_or_says_deny_by_default() -> None:
    allowed = AUTHZ.explain(["support"], "/api/v1/customers/<id>", "PATCH")
    assert allowed.matched_rule == ("p", "support", "/api/v1/customers/:id", "GET|PATCH")
    assert allowed.reason == (
        "allowed: role 'support' matches rule 'p, support, /api/v1/customers/:id, GET|PATCH'"
    )
    denied = AUTHZ.explain(["support", "ghost"], "/api/v1/keys/rotate", "POST")
    assert denied.allowed is False and denied.matched_rule is None
    assert "deny by default" in denied.reason
    assert "no rules at all: ghost" in denied.reason
    assert "holds no role" in AUTHZ.explain([], "/", "GET").reason
    assert "unsupported method" in AUTHZ.explain(["dpo"], "/", "BREW").reason


def test_cache_is_invalidated_on_reload() -> None:
    authz = Authorizer(DEFAULT_MODEL_PATH, POLICY)
    args = (["support"], "/api/v1/customers/<id>/interactions", "POST")
    assert authz.allowed(*args)
    assert authz.allowed(*args)  # served from the cache
    without = [
        line for line in POLICY if line[1:3] != ("support", "/api/v1/customers/:id/interactions")
    ]
    authz.reload(without)
    assert authz.allowed(*args) is False
    authz.reload(POLICY)
    assert authz.allowed(*args) is True


def test_cache_is_bounded() -> None:
    authz = Authorizer(DEFAULT_MODEL_PATH, POLICY, max_cache_entries=3)
    for n in range(10):
        assert authz.allowed(["dpo"], f"/api/v1/customers/{n}", "GET")
    assert len(authz._state.cache) <= 3


def test_role_inheritance_lines() -> None:
    lines = [*POLICY, ("g", "user:42", "auditor")]
    authz = Authorizer(DEFAULT_MODEL_PATH, lines)
    assert authz.allowed(["user:42"], "/api/v1/audit/entries", "GET")
    assert not authz.allowed(["user:42"], "/api/v1/customers", "GET")


def test_real_policy_is_valid_and_exports_round_trip(tmp_path: Path) -> None:
    validate_policy(POLICY)
    text = export_policy_csv(POLICY)
    assert "# --- support\np, support, /api/v1/customers, GET\n" in text
    exported = tmp_path / "policy.csv"
    exported.write_text(text, encoding="utf-8")
    assert load_policy_csv(exported) == POLICY


def test_csv_syntax_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("# ok\np, dpo, /api/v1/quality, GET\n\np, dpo, /api/v1/quality\nx, y\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_csv(bad)
    assert [p.split(":")[0] for p in caught.value.problems] == ["line 4", "line 5"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (("p", "root", "/api/v1/users", "GET"), "unknown role 'root'"),
        (("p", "dpo", "api/v1/users", "GET"), "absolute path pattern"),
        (("p", "dpo", "/api/v1/users?x=1", "GET"), "absolute path pattern"),
        (("p", "dpo", "/api/v1/(.*)", "GET"), "absolute path pattern"),
        (("p", "dpo", "/api/v1/openapi.json", "GET"), "absolute path pattern"),  # '.' is regex
        (("p", "dpo", "/api/v1/users", "get"), "upper-case HTTP methods"),
        (("p", "dpo", "/api/v1/users", "GET|.*"), "upper-case HTTP methods"),
        (("p", "dpo", "/api/v1/users", "GET|FETCH"), "distinct HTTP methods"),
        (("p", "dpo", "/api/v1/users", "GET|GET"), "distinct HTTP methods"),
        (("p", "dpo", "/api/v1/users"), "expected ('p', ROLE"),
        (("q", "dpo", "/api/v1/users", "GET"), "expected ('p', ROLE"),
        (("g", "alice", "superuser"), "unknown role 'superuser'"),
        (("g", "al ice", "dpo"), "member must be"),
        (("p", "dpo", "/api/v1/quality", "GET"), "duplicate rule"),
    ],
)
def test_validate_policy_names_the_offending_rule(line: tuple[str, ...], problem: str) -> None:
    lines = [("p", "dpo", "/api/v1/quality", "GET"), line]
    with pytest.raises(PolicyError) as caught:
        validate_policy(lines)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("rule 2 (")
    assert problem in caught.value.problems[0]
    with pytest.raises(PolicyError):
        Authorizer(DEFAULT_MODEL_PATH, lines)  # the enforcer never loads a bad policy
    assert AUTHZ.allowed(["dpo"], "/api/v1/quality", "GET")


def test_known_roles_can_be_given_explicitly() -> None:
    validate_policy([("p", "tester", "/x", "GET")], known_roles={"tester"})
    with pytest.raises(PolicyError):
        validate_policy([("p", "tester", "/x", "GET")])


# Cross-checks between policy.csv and visibility.yaml.
PRIVILEGED = ("/api/v1/customers", "/customers", "/api/v1/keys", "/api/v1/policy", "/api/v1/users")
NO_CUSTOMER_DATA = {"admin", "analyst", "auditor"}


def test_every_person_role_with_privileged_routes_requires_mfa() -> None:
    visibility = default_visibility()
    for _, role, route, _ in (line for line in POLICY if line[0] == "p"):
        if visibility.roles[role].kind == "person" and route.startswith(PRIVILEGED):
            assert requires_mfa([role]), role
    assert not requires_mfa(["crm_app"])
    assert requires_mfa(["crm_app", "support"])
    assert requires_mfa(["unknown-role"])  # fail safe


def test_roles_without_customer_data_have_no_customer_routes() -> None:
    for _, role, route, _ in (line for line in POLICY if line[0] == "p"):
        if role in NO_CUSTOMER_DATA:
            assert not route.startswith(("/api/v1/customers", "/customers")), (role, route)


def test_service_roles_have_no_console_routes() -> None:
    services = {r.name for r in default_visibility().roles.values() if r.kind == "service"}
    assert services == {"audit_monitor", "crm_app"}
    for _, role, route, _ in (line for line in POLICY if line[0] == "p"):
        if role in services:
            assert route.startswith("/api/v1/"), route
