"""The console: the consent page (totals, chart, notices), the customer's consent section with
receipt links, and the dashboard tile."""

from __future__ import annotations

from typing import Any

from conftest import login_as
from consent_helpers import create, grant, withdraw


def test_the_consent_page_and_the_customer_section(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm, marketing=None)
    event = grant(client, crm, cid, "marketing_email").json
    withdraw(client, crm, cid, "marketing_email")
    grant(client, crm, cid, "marketing_sms")
    dpo = app.test_client()
    login_as(app, dpo, "dpo")
    page = dpo.get("/consent")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="consent-totals"' in html and "<svg" in html and "marketing_sms" in html
    assert 'id="consent-notices"' in html
    customer = dpo.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="consent"' in customer and 'data-state="withdrawn"' in customer
    assert f"/api/v1/consents/{event['id']}/receipt" in customer
    assert dpo.get(f"/api/v1/consents/{event['id']}/receipt").status_code == 200
    dashboard = dpo.get("/").get_data(as_text=True)
    assert 'id="tile-consent"' in dashboard
    zh_page = dpo.get("/consent", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "隐私声明" in zh_page.get_data(as_text=True)


def test_support_sees_the_customers_consent_to_record_one_but_no_receipts_or_totals(
    app: Any, client: Any, crm: dict[str, str]
) -> None:
    cid = create(client, crm)
    support = app.test_client()
    login_as(app, support, "support")
    page = support.get(f"/customers/{cid}")
    html = page.get_data(as_text=True)
    # a caller asking to stop the emails: support sees the state and records the withdrawal
    assert page.status_code == 200 and 'id="consent"' in html and 'id="consent-form"' in html
    assert "/receipt" not in html  # receipts are the DPO's and the apps' (route policy)
    assert support.get("/consent").status_code == 403
