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


def test_browsable_page_lists_the_routes(client: Any) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/customers/{customer_id}/orders" in page.get_data(as_text=True)
