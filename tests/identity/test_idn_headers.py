"""Headers on every answer: the fixed security headers, the request id (echoed only when it is
a plain token, and the same id in the audit log), and the rate-limit state of API calls."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import login_as
from idn_helpers import audit, csrf_from

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/v1/customers", 200), ("/api/v1/nowhere", 404), ("/login", 200), ("/healthz", 200)],
)
def test_every_answer_carries_the_security_headers_once(
    client: Any, crm: dict[str, str], path: str, status: int
) -> None:
    res = client.get(path, headers=crm)
    assert res.status_code == status
    for name, value in SECURITY.items():
        assert res.headers.getlist(name) == [value], name
    assert len(res.headers.getlist("X-Request-Id")) == 1


def test_a_plain_request_id_is_echoed_and_audited(app: Any, client: Any) -> None:
    sent = "crm-7f3a:retry.2"
    res = client.get("/api/v1/customers", headers={"X-Request-Id": sent})
    assert res.status_code == 401
    assert res.headers["X-Request-Id"] == sent
    assert audit(app, "auth.required")[0]["request_id"] == sent


@pytest.mark.parametrize(
    "sent", ["two words", "x" * 65, "semi;colon", "caf\u00e9", "<script>", "a\tb"]
)
def test_an_odd_request_id_is_replaced_by_a_fresh_one(app: Any, client: Any, sent: str) -> None:
    res = client.get("/api/v1/customers", headers={"X-Request-Id": sent})
    given = res.headers["X-Request-Id"]
    assert given != sent and len(given) == 32 and int(given, 16) >= 0
    assert audit(app, "auth.required")[0]["request_id"] == given


def test_without_a_request_id_each_call_gets_its_own(client: Any) -> None:
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert first != second and len(first) == len(second) == 32


def test_api_answers_count_down_the_rate_limit(client: Any, crm: dict[str, str]) -> None:
    seen = []
    for _ in range(3):
        res = client.get("/api/v1/customers", headers=crm)
        assert res.status_code == 200
        assert res.headers["X-RateLimit-Limit"] == "600"
        assert int(res.headers["X-RateLimit-Reset"]) > 0
        seen.append(int(res.headers["X-RateLimit-Remaining"]))
    assert seen == [599, 598, 597]


def test_console_pages_carry_no_rate_limit_headers(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.get("/")
    assert res.status_code == 200
    assert "X-RateLimit-Limit" not in res.headers


def test_console_forms_still_need_their_csrf_token(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    token = csrf_from(client, "/logout")
    assert client.post("/logout", data={}).status_code == 400
    assert client.post("/logout", data={"csrf_token": token + "x"}).status_code == 400
    refused = audit(app, "csrf.refused")
    assert [e["details"]["reason"] for e in refused] == ["missing", "invalid"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_header_the_answer_set_itself_is_kept_not_doubled(client: Any) -> None:
    res = client.get("/console-static/console.css")  # Flask's file sending sets Cache-Control
    res.close()
    assert res.status_code == 200
    assert len(res.headers.getlist("Cache-Control")) == 1
    assert res.headers["Cache-Control"] != "no-store"
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert res.headers.getlist(name) == [SECURITY[name]]
