"""Erasure certificate (GDPR Art. 17, PIPL Art. 47): what was erased, when, and the audit entry
with its RFC 9162 inclusion proof against a signed checkpoint, printed so that a reader can
re-check it with ``python -m audit verify-inclusion`` from the JSON twin of this document.

Pure function: the certificate's JSON (ids, dates, hashes; no personal value) in, PDF bytes out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reports.style import (
    ReportDataError,
    build_document,
    data_table,
    heading,
    key_figures,
    notice,
    paragraph,
)

TITLE = "Erasure Certificate"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def build(cert: dict[str, Any]) -> bytes:
    """The certificate as PDF bytes; ReportDataError if a member is missing."""
    try:
        request, cp, proof = cert["request"], cert["checkpoint"], cert["inclusion"]
        erased_at = _when(cert["erased_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportDataError(f"certificate is incomplete: {exc}") from None
    story: list[Any] = [
        heading("What was erased"),
        key_figures(
            [
                ("Subject (customer id)", str(cert["subject_id"])),
                ("Erased at", cert["erased_at"]),
                ("Request", str(request["id"])),
                ("Jurisdiction", str(request.get("jurisdiction") or "-")),
                ("Received", str(request.get("received_at") or "-")),
                ("Identity verified by", str(request.get("verification") or "-")),
            ]
        ),  # fmt: skip
        data_table(
            ["Category", "How"], [[e["category"], e["how"]] for e in cert["erased"]], (1.2, 4.8)
        ),  # fmt: skip
        heading("What was kept, and why"),
        data_table(
            ["Category", "Why"], [[e["category"], e["why"]] for e in cert["exceptions"]], (1.2, 4.8)
        ),  # fmt: skip
        heading("Proof"),
        paragraph(
            f"The erasure is audit entry {cert['entry']['seq']} ({cert['entry']['action']}). "
            f"Its leaf hash is included in the log of {proof['tree_size']} entries whose root "
            f"{cp['root_hash']} was signed at {cp['timestamp']} by key {cp['key_id']}."
        ),
        key_figures(
            [
                ("Leaf hash", cert["leaf_hash"]),
                ("Leaf index", str(proof["leaf_index"])),
                ("Proof hashes", str(len(proof["proof"]))),
                ("Checkpoint signature", cp["signature"][:44] + "..."),
            ]
        ),  # fmt: skip
        notice(
            "Verify offline from the JSON certificate: python -m audit verify-inclusion "
            "CERTIFICATE.json --key audit_public_key.pem",
            "info",
        ),
    ]
    return build_document(
        TITLE, f"Customer {cert['subject_id']}", erased_at, story, {"Request": str(request["id"])}
    )
