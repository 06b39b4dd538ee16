"""The OpenAPI document describes exactly the API routes the server has."""

from __future__ import annotations

import re
from typing import Any


def api_routes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    return routes


def test_every_route_is_documented_and_nothing_else(app: Any, client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    documented = {(p, m) for p, ms in doc["paths"].items() for m in ms}
    assert documented == api_routes(app)


def test_docs_page_serves_the_vendored_viewer_from_our_own_files(client: Any) -> None:
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attrs for attrs in scripts)  # no inline script
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "api-docs.js"):
        assert f"/static/{asset}" in html
        with client.get(f"/static/{asset}") as served:
            assert served.status_code == 200 and len(served.data) > 100, asset
    assert 'data-spec="/api/v1/openapi.json"' in html


def test_both_ways_of_signing_in_are_declared(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie"}
    assert {"bearer": []} in doc["security"] and {"session": []} in doc["security"]


def test_error_answers_are_documented_where_they_happen(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            codes = set(spec["responses"])
            assert {"400", "404", "422", "429"} <= codes, (method, path)
            if spec.get("security") != []:
                assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "patch"):
                assert {"409", "413", "415"} <= codes, (method, path)
    problem = doc["paths"]["/audit/checkpoints"]["get"]["responses"]["403"]
    assert problem["content"]["application/problem+json"]["schema"]["$ref"].endswith("Problem")


def test_masked_answers_are_not_declared_as_dates(client: Any) -> None:
    """Roles that see a birth date masked get ``1970-**-**``: the answer cannot be a format:
    date string; what the server accepts still is."""
    import re

    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    answer = schemas["Customer"]["properties"]["date_of_birth"]
    assert "format" not in answer and re.search(answer["pattern"], "1970-**-**")
    assert schemas["CustomerInput"]["properties"]["date_of_birth"]["format"] == "birth-date"
    text = schemas["CustomerInput"]["properties"]["email"]
    assert text.get("format") == "email"
    note = schemas["InteractionInput"]["properties"]["note"]
    assert not re.search(note["pattern"], "a\u0000b") and re.search(note["pattern"], "a\nb")


def test_limit_maximum_is_documented(client: Any) -> None:
    params = client.get("/api/v1/openapi.json").json["paths"]["/customers"]["get"]["parameters"]
    limit = next(p for p in params if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
