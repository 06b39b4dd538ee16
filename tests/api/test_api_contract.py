"""The API's contract at the edge: policy rules and routes agree, every 405 says what is
allowed, ``limit`` has one rule, and text or nesting that cannot be processed is a 4xx
problem, never a 500 (issue items 9, 10 and 18)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import csrf_headers, login_as

from governance.cli import cli
from governance.security.authz import DEFAULT_POLICY_PATH, load_policy_csv

JSON = {"Content-Type": "application/json"}
DEEP = "[" * 2500 + "]" * 2500
DEEP_OBJECT = '{"a":' * 2500 + "1" + "}" * 2500
BAD_TEXT = {
    "lone surrogate": '"Ann \\ud800 Lee"',
    "NUL": '"Ann \\u0000 Lee"',
    "bell": '"Ann \\u0007 Lee"',
    "C1 control": '"Ann \\u0085 Lee"',
}


def assert_problem(res: Any, *statuses: int) -> dict[str, Any]:
    assert res.status_code in statuses, (res.status_code, res.get_data(as_text=True)[:300])
    assert res.mimetype == "application/problem+json"
    body = res.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


# --- item 9: policy rules and routes ----------------------------------------------------------


def test_every_rule_has_a_route_and_every_route_a_rule(app: Any) -> None:
    from governance.services.identity.policy import lint
    from governance.web.edge import guarded_routes

    problems = lint(load_policy_csv(DEFAULT_POLICY_PATH), guarded_routes(app))
    assert not problems, "policy and routes disagree:\n" + "\n".join(problems)


def test_the_lint_finds_a_rule_without_a_route_and_a_route_without_a_rule(app: Any) -> None:
    from governance.services.identity.policy import lint
    from governance.web.edge import guarded_routes

    lines = [x for x in load_policy_csv(DEFAULT_POLICY_PATH) if x[2] != "/api/v1/keys/rotate"]
    lines.append(("p", "dpo", "/api/v1/customers/:id/erase", "POST"))
    assert lint(lines, guarded_routes(app)) == [
        "rule 'p, dpo, /api/v1/customers/:id/erase, POST': no route POST "
        "/api/v1/customers/:id/erase",
        "route POST /api/v1/keys/rotate: no rule allows any role to call it",
    ]


def test_policy_check_never_calls_a_route_less_call_allowed(app: Any) -> None:
    runner = app.test_cli_runner()
    for method, path in (
        ("POST", "/api/v1/customers/42/erase"),
        ("GET", "/api/v1/imports"),
        ("GET", "/quality/everything"),  # (/quality is the console page since issue 18)
        ("GET", "/api/v1/nowhere"),
    ):
        res = runner.invoke(cli, ["policy", "check", "dpo", method, path])
        assert res.exit_code == 1, (method, path, res.output)
        assert "no route" in res.output
    ok = runner.invoke(cli, ["policy", "check", "dpo", "POST", "/api/v1/imports"])
    assert ok.exit_code == 0, ok.output


def test_console_policy_check_says_a_route_less_call_is_denied(app: Any, client: Any) -> None:
    login_as(app, client, "admin")
    page = client.get("/policy?role=dpo&method=POST&path=/api/v1/customers/1/erase")
    assert page.status_code == 200
    assert "no route for POST /api/v1/customers/1/erase" in page.get_data(as_text=True)


# --- item 18: 405 carries Allow ---------------------------------------------------------------


def test_every_405_carries_allow(app: Any, client: Any) -> None:
    seen = 0
    for rule in app.url_map.iter_rules():
        if "PUT" in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = "/".join("x" if p.startswith("<") else p for p in rule.rule.split("/"))
        res = client.put(path)
        assert res.status_code == 405, (path, res.status_code)
        allowed = {m.strip() for m in res.headers.get("Allow", "").split(",")}
        assert set(rule.methods or ()) <= allowed, (path, res.headers.get("Allow"))
        if path.startswith("/api/"):
            assert_problem(res, 405)
        seen += 1
    assert seen > 70  # API and console, every route


# --- item 18: text and nesting the server cannot process ---------------------------------------


@pytest.fixture
def crm_client(app: Any, crm: dict[str, str]) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = crm["Authorization"]
    client.environ_base["HTTP_X_PURPOSE"] = crm["X-Purpose"]
    return client


def customer_count(app: Any) -> int:
    from governance.extensions import db
    from governance.models import Customer

    with app.app_context():
        count = db.session.query(Customer).count()
        db.session.rollback()
    return count


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_name_is_422_and_writes_nothing(app: Any, crm_client: Any, kind: str) -> None:
    body = '{"full_name": BAD, "address": {"city": BAD}}'.replace("BAD", BAD_TEXT[kind])
    res = crm_client.post("/api/v1/customers", data=body, headers=JSON)
    problem = assert_problem(res, 422)
    assert {e["field"] for e in problem["errors"]} == {"full_name", "address.city"}
    assert "Ann" not in res.get_data(as_text=True)
    assert customer_count(app) == 0


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_note_is_422(app: Any, crm_client: Any, kind: str) -> None:
    created = crm_client.post("/api/v1/customers", json={"full_name": "Bo Chen"})
    url = f"/api/v1/customers/{created.get_json()['id']}/interactions"
    body = '{"channel": "email", "occurred_at": "2024-05-01T10:00:00Z", "note": BAD}'
    res = crm_client.post(url, data=body.replace("BAD", BAD_TEXT[kind]), headers=JSON)
    problem = assert_problem(res, 422)
    assert problem["errors"][0]["field"] == "note"
    assert crm_client.get(url, headers={"X-Purpose": "support"}).get_json()["items"] == []


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_pii_text_is_422(crm_client: Any, kind: str) -> None:
    for route in ("/api/v1/pii/analyze", "/api/v1/pii/redact"):
        res = crm_client.post(
            route, data='{"text": BAD}'.replace("BAD", BAD_TEXT[kind]), headers=JSON
        )
        assert assert_problem(res, 422)["errors"][0]["field"] == "text"


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_bad_text_in_a_service_account_name_is_422(app: Any, client: Any, kind: str) -> None:
    login_as(app, client, "admin")
    body = '{"name": BAD, "roles": ["crm_app"]}'.replace("BAD", BAD_TEXT[kind])
    headers = {**JSON, **csrf_headers(client)}
    res = client.post("/api/v1/service-accounts", data=body, headers=headers)
    assert assert_problem(res, 422)["errors"][0]["field"] == "name"
    assert client.get("/api/v1/service-accounts").get_json()["items"] == []


def test_control_characters_in_a_console_service_account_name_are_refused(
    app: Any, client: Any
) -> None:
    """Forms cannot carry lone surrogates (URL decoding replaces them), but controls pass."""
    login_as(app, client, "admin")
    token = csrf_headers(client)["X-CSRFToken"]
    res = client.post(
        "/service-accounts",
        data={"csrf_token": token, "name": "crm\u0007bot", "role": "crm_app"},
    )
    assert res.status_code == 422
    assert "name" in res.get_data(as_text=True)
    assert client.get("/api/v1/service-accounts").get_json()["items"] == []


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, "[" * 40 + "]" * 40])
def test_deeply_nested_json_is_400(app: Any, crm_client: Any, body: str) -> None:
    for route in ("/api/v1/customers", "/api/v1/pii/analyze"):
        res = crm_client.post(route, data=body, headers=JSON)
        assert "nested deeper than 32" in assert_problem(res, 400)["detail"]
    assert customer_count(app) == 0


def test_bodies_that_are_not_utf8_json_are_400(crm_client: Any) -> None:
    for body in (b'{"full_name": "\xff"}', b"{", b'{"full_name": "A"} x'):
        res = crm_client.post("/api/v1/customers", data=body, headers=JSON)
        assert_problem(res, 400)


# --- item 10: one rule for limit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "route", "maximum"),
    [
        ("dpo", "/api/v1/audit/entries", 1000),
        ("dpo", "/api/v1/customers", 500),
        ("dpo", "/api/v1/pii/findings", 500),
        ("dpo", "/api/v1/pii/scans", 100),
    ],
)
def test_limit_above_the_maximum_is_422_naming_it(
    app: Any, client: Any, role: str, route: str, maximum: int
) -> None:
    login_as(app, client, role)
    headers = {"X-Purpose": "support"}
    assert client.get(f"{route}?limit={maximum}", headers=headers).status_code == 200
    for too_many in (maximum + 1, 5000):
        problem = assert_problem(client.get(f"{route}?limit={too_many}", headers=headers), 422)
        assert problem["errors"] == [
            {"field": "limit", "message": f"must be between 1 and {maximum}"}
        ]
    assert_problem(client.get(f"{route}?limit=0", headers=headers), 422)


def test_an_empty_filter_is_answered_like_every_other_empty_filter(crm_client: Any) -> None:
    for name in ("updated_since", "country", "email", "external_ref"):
        problem = assert_problem(crm_client.get(f"/api/v1/customers?{name}="), 422)
        assert problem["errors"] == [{"field": name, "message": "must not be empty"}]


def test_control_characters_in_query_parameters_are_422(app: Any, crm_client: Any) -> None:
    for query in ("external_ref=a%07b", "external_ref=a%00b", "purpose=x%1b"):
        problem = assert_problem(crm_client.get(f"/api/v1/customers?{query}"), 422)
        assert problem["errors"][0]["message"] == "contains control characters", query
    client = app.test_client()
    login_as(app, client, "auditor")
    assert_problem(client.get("/api/v1/audit/entries?actor=a%00b"), 422)


@pytest.mark.parametrize("field", [["interactions.note"], 7, "no.such_field"])
def test_a_bad_redaction_field_is_422_even_with_a_mode(crm_client: Any, field: Any) -> None:
    """``field`` is checked whether or not ``mode`` is given (schemathesis found it ignored)."""
    body = {"text": "call 13800138000", "mode": "mask", "field": field}
    res = crm_client.post("/api/v1/pii/redact", json=body)
    assert assert_problem(res, 422)["errors"][0]["field"] == "field"
