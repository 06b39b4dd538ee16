"""One layout for every console page: grouped navigation on error pages too, flash messages
with code shown as code (no literal backticks), language chosen by setting or browser."""

from __future__ import annotations

from typing import Any

from conftest import login_as


def test_404_page_has_the_navigation(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.get("/no-such-page")
    html = res.get_data(as_text=True)
    assert res.status_code == 404
    assert '<nav class="side"' in html and 'href="/customers"' in html
    assert "Back to the dashboard" in html


def test_403_page_has_the_navigation(app: Any, client: Any) -> None:
    login_as(app, client, "support")
    res = client.get("/audit")
    html = res.get_data(as_text=True)
    assert res.status_code == 403
    assert '<nav class="side"' in html and 'href="/customers"' in html
    assert 'href="/audit"' not in html  # the navigation lists only what the role may open


def test_navigation_is_grouped_and_marks_the_current_page(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    html = client.get("/customers").get_data(as_text=True)
    assert html.count('class="group-title"') >= 3
    assert 'href="/customers" class="active" aria-current="page"' in html


def test_flash_shows_code_without_backticks(app: Any, client: Any) -> None:
    from governance.web.i18n import inline_code

    assert str(inline_code("run `governance worker` <now>")) == (
        "run <code>governance worker</code> &lt;now&gt;"
    )
    assert str(inline_code("one ` only")) == "one ` only"
