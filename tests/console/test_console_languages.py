"""English and Simplified Chinese: chosen by the person's setting, else the browser's
Accept-Language (issue 18 contract: ``GET /login`` with ``zh-CN`` answers in Chinese)."""

from __future__ import annotations

import re
from typing import Any

from conftest import login_as
from test_console_forms import csrf

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def test_login_answers_in_chinese_for_a_chinese_browser(client: Any) -> None:
    res = client.get("/login", headers=ZH)
    html = res.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html and '<label for="email">电子邮箱</label>' in html
    assert '<label for="password">密码</label>' in html
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_english_by_default(client: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Sign in</h1>" in html


def test_the_persons_setting_wins_over_the_browser(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.post(
        "/account/language", data={"locale": "zh_CN", "csrf_token": csrf(client, "/account")}
    )
    assert res.status_code == 302
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "仪表板" in page and "语言已保存。" in page
    res = client.post(
        "/account/language", data={"locale": "", "csrf_token": csrf(client, "/account")}
    )
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_unknown_language_is_refused(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    res = client.post(
        "/account/language", data={"locale": "xx", "csrf_token": csrf(client, "/account")}
    )
    assert res.status_code == 422


def test_every_console_page_is_in_chinese_and_csp_strict(app: Any, client: Any) -> None:
    login_as(app, client, "dpo")
    for path in ("/", "/customers", "/audit", "/jobs", "/reports", "/auditor", "/quality", "/pii"):
        res = client.get(path, headers=ZH)
        html = res.get_data(as_text=True)
        assert res.status_code == 200, path
        assert '<html lang="zh-CN">' in html, path
        assert re.search(r"<h1>[^<]*[\u4e00-\u9fff]", html), path
        assert "unsafe-inline" not in res.headers["Content-Security-Policy"], path


def test_dates_and_numbers_follow_the_locale(app: Any) -> None:
    from datetime import UTC, datetime

    from governance.web.i18n import number, when

    with app.test_request_context("/", headers=ZH):
        assert number(1234567) == "1,234,567"
        assert "2026年3月14日" in when(datetime(2026, 3, 14, 9, 26, tzinfo=UTC))
    with app.test_request_context("/"):
        assert "Mar 14, 2026" in when("2026-03-14T09:26:53Z")
