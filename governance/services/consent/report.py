"""The consent report PDF (``reports/consent.py``) from the ledger's totals; audited."""

from __future__ import annotations

from datetime import datetime

from governance.context import Call
from governance.purposes import current as purposes
from governance.services.auditlog.append import rfc3339
from governance.services.consent.notices import in_force, list_notices
from governance.services.consent.totals import current_states, monthly
from reports.consent import ConsentReport, MonthRow, NoticeRow, PurposeRow, build_consent_report


def consent_report_pdf(call: Call, start: datetime, end: datetime) -> bytes:
    """The consent report of the period ``start``..``end`` (audited as ``report.consent``)."""
    states = current_states(call)
    catalogue = purposes()
    rows = [
        PurposeRow(name, catalogue[name].basis, catalogue[name].text("en"),
                   catalogue[name].text("zh"), states.get(name, {}))
        for name in catalogue.consent_based()
    ]  # fmt: skip
    by_month: dict[tuple[str, str], dict[str, int]] = {}
    for r in monthly(call, start, end):
        counts = by_month.setdefault((r["month"], r["purpose"]), {})
        counts[r["action"]] = counts.get(r["action"], 0) + r["events"]
    months = [
        MonthRow(m, p, c.get("grant", 0), c.get("withdraw", 0), c.get("refuse", 0))
        for (m, p), c in sorted(by_month.items())
    ]
    current = in_force(call)
    notices = [
        NoticeRow(n["version"], n["effective_at"], n["text_sha256"], n["purposes"],
                  current is not None and n["version"] == current.version)
        for n in list_notices(call)["items"]
    ]  # fmt: skip
    call.audit.record(
        call.session, call.actor, "report.consent", now=call.now(), resource="consent",
        details={"from": rfc3339(start), "to": rfc3339(end)},
    )  # fmt: skip
    return build_consent_report(ConsentReport(call.now(), start, end, rows, months, notices))
