"""Restriction and objection requests go through the consent module's objections; an access
export carries the consent history with its receipts."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from governance.services.consent import objections
from tests.requests.req_helpers import dpo, new_customer, run_jobs
from tests.requests.test_req_outcomes import _advance, _new_request


def test_restriction_and_objection_requests_block_processing(
    app: Any, client: Any, call: Any
) -> None:
    customer = new_customer(call)
    headers = dpo(app, client)
    restricted = _advance(client, headers, _new_request(client, headers, "restriction",
                                                        reason="accuracy contested"))  # fmt: skip
    assert restricted.status_code == 200, restricted.json
    assert restricted.json["outcome"] == "restricted"
    objected = _advance(client, headers, _new_request(client, headers, "objection",
                                                      purpose="profiling"))  # fmt: skip
    assert objected.status_code == 200, objected.json
    assert objected.json["outcome"] == "objection_recorded"
    events = objections.objections_of(call, customer)
    kinds = {(e["kind"], e.get("purpose")) for e in events}
    assert ("restriction", None) in kinds and ("objection", "profiling") in kinds
    assert all(str(e.get("request_ref", "")).startswith("request:") for e in events)
    call.session.rollback()
    # a restricted person may still see their data (GDPR Art. 15 is not processing to restrict)
    access = _new_request(client, headers, "access")
    _advance(client, headers, access)
    run_jobs(app)
    detail = client.get(f"/api/v1/requests/{access}", headers=headers).json
    assert detail["outcome"] == "export_ready", detail


def test_access_export_carries_consent_history_and_receipts(
    app: Any, client: Any, call: Any, crm: dict[str, str]
) -> None:
    customer = new_customer(call)
    grant = client.post(f"/api/v1/customers/{customer}/consents",
                        json={"purpose": "profiling", "action": "grant", "notice_version": "1",
                              "source": "web_form"}, headers=crm)  # fmt: skip
    assert grant.status_code == 201, grant.json
    headers = dpo(app, client)
    rid = _new_request(client, headers, "access")
    _advance(client, headers, rid)
    run_jobs(app)
    got = client.get(f"/api/v1/requests/{rid}/export", headers=headers)
    assert got.status_code == 200
    data = json.loads(zipfile.ZipFile(io.BytesIO(got.data)).read("export.json"))
    assert data["consent"] is not None
    consents = [c for c in data["consent"] if c["kind"] == "consent"]
    assert consents and consents[-1]["purpose"] == "profiling"
    assert consents[-1]["receipt"]["inclusion"]["tree_size"] >= 1
