"""What completing a request does, per kind.

- access / portability: queue the export job (``exports.py``); the job completes the request;
- erasure: refused while a legal hold covers the customer (409 with the hold's reason, nothing
  changed); otherwise crypto-shredding as the API's DELETE does, and an entry
  ``request.erase`` whose inclusion proof the erasure certificate carries (``certificate.py``);
- rectification: the request's sealed merge patch applied through the customer service;
- restriction / objection: recorded through the consent module's objections
  (``governance.services.consent.objections``), which blocks the purposes for the person.
"""

from __future__ import annotations

import importlib
from typing import Any

from governance.context import Call
from governance.errors import Conflict
from governance.models import SubjectRequest
from governance.services.customers import store as customers
from governance.services.retention.holds import refuse_if_held


class NotAvailable(Conflict):
    slug = "not-available"
    title = "Not available on this server"


def carry_out(call: Call, request: SubjectRequest) -> str:
    """Do what the request asks; returns its outcome. Raises and changes nothing on refusal."""
    if request.customer_id is None:
        return "no_data_held"
    if request.kind in ("access", "portability"):
        from governance.services.requests import exports

        exports.start(call, request)
        return "export_building"
    if request.kind == "erasure":
        return _erase(call, request)
    if request.kind == "rectification":
        key = call.vault.subject_key(call.session, request.customer_id)
        changes = call.vault.open(key, "subject_requests", "changes", request.customer_id,
                                  request.changes_ct, True, row_id=request.id)  # fmt: skip
        customers.update_customer(call, request.customer_id, changes or {})
        request.changes_ct = None  # applied: the new values live in the customer record only
        return "rectified"
    return _consent(call, request)


def _erase(call: Call, request: SubjectRequest) -> str:
    customer_id = request.customer_id
    assert customer_id is not None
    refuse_if_held(call, customer_id)
    customers.erase_customer(call, customer_id, request_ref=f"request:{request.id}")
    appended = call.audit.record(
        call.session,
        call.actor,
        "request.erase",
        now=call.now(),
        resource="customers",
        subject_id=customer_id,
        details={"request_id": request.id, "jurisdiction": request.jurisdiction,
                 "erased": ["customer_profile", "orders", "interactions"]},
    )  # fmt: skip
    request.erasure_qid = appended.qid
    return "erased"


def _consent(call: Call, request: SubjectRequest) -> str:
    try:
        objections: Any = importlib.import_module("governance.services.consent.objections")
    except ImportError:
        raise NotAvailable(
            f"{request.kind} requests need the consent module's objections, which this server "
            "does not have yet"
        ) from None
    ref = f"request:{request.id}"
    if request.kind == "restriction":
        objections.record_restriction(call, request.customer_id, reason=request.reason,
                                      request_ref=ref)  # fmt: skip
        return "restricted"
    objections.record_objection(call, request.customer_id, request.purpose,
                                reason=request.reason, request_ref=ref)  # fmt: skip
    return "objection_recorded"
