"""Recording report downloads in the audit log (one shape for every report)."""

from __future__ import annotations

from typing import Any

from governance.context import Call


def record_download(call: Call, report: str, pdf: bytes, **details: Any) -> bytes:
    """Append ``report.download`` (report name, size, extra details) in the caller's
    transaction and hand the PDF back, so a builder can end with ``return record_download(…)``."""
    call.audit.record(
        call.session,
        call.actor,
        "report.download",
        now=call.now(),
        resource="reports",
        details={"report": report, "bytes": len(pdf), **details},
    )
    return pdf
