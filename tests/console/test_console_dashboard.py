"""The dashboard is a list of tile providers: each role sees the tiles of pages it may open,
each tile links to its page, and another domain plugs in a tile by registering a provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import login_as

from governance.services.evidence import dashboard


@pytest.fixture
def extra_tile() -> Iterator[None]:
    @dashboard.provider("requests due", pages=("console.audit",), order=5)
    def _due(call: Any) -> dashboard.Tile:
        return dashboard.Tile("requests due", "Requests due", 3, "due within 7 days",
                              "console.audit", state="warn")  # fmt: skip

    yield
    del dashboard.PROVIDERS["requests due"]


def test_a_provider_plugs_in_a_tile_for_the_roles_of_its_page(app: Any, extra_tile: None) -> None:
    dpo, support = app.test_client(), app.test_client()
    login_as(app, dpo, "dpo")
    login_as(app, support, "support")
    page = dpo.get("/").get_data(as_text=True)
    assert 'data-figure="requests due">3<' in page
    assert 'class="card tile warn" id="tile-requests-due"' in page
    assert 'data-figure="requests due"' not in support.get("/").get_data(as_text=True)


def test_tiles_say_what_needs_attention(app: Any) -> None:
    admin = app.test_client()
    login_as(app, admin, "admin")
    page = admin.get("/").get_data(as_text=True)
    assert 'data-figure="mfa coverage">1/1<' in page  # the admin itself, enrolled
    assert 'data-figure="tokens near expiry">0<' in page
    assert 'data-figure="customers"' not in page  # admin sees no customer data


def test_auditor_sees_the_audit_tile_with_its_verification(app: Any) -> None:
    auditor = app.test_client()
    login_as(app, auditor, "auditor")
    page = auditor.get("/").get_data(as_text=True)
    assert 'id="tile-audit-entries"' in page and "last verified —" in page
    assert 'href="/audit"' in page
