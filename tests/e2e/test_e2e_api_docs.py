"""The API documentation in a real browser: Swagger UI, vendored and served by us, renders the
OpenAPI document under the strict Content-Security-Policy with no violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).parent / "artifacts"


def test_swagger_ui_renders_the_document_under_the_csp(live_server: str, page: Any) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    outside: list[str] = []

    def fetched(request: Any) -> None:
        if not request.url.startswith((live_server, "data:")):
            outside.append(request.url)

    page.on("request", fetched)
    response = page.goto(f"{live_server}/api/v1/docs")
    script_src = response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert "unsafe-inline" not in script_src
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.locator(".opblock-summary-path", has_text="orders").count() >= 1
    assert not [e for e in errors if "Content Security Policy" in e], errors
    assert not outside, outside  # nothing fetched from another host
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
