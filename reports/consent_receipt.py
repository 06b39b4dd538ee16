"""Consent receipt: one A4 page saying what was agreed (or withdrawn), when, under which notice
(its SHA-256), and the audit log's proof: leaf hash, inclusion proof and the signed checkpoint,
with how to verify it offline (``python -m audit receipt FILE --public-key KEY``).

Pure function: the receipt JSON (as served by ``/api/v1/consents/{id}/receipt``) in, PDF bytes
out. The receipt carries ids and hashes only, no personal data.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.platypus import SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from reports.style import (
    PRODUCT_NAME,
    ReportDataError,
    heading,
    key_figures,
    notice,
    paragraph,
)

__all__ = ["build_consent_receipt"]

TITLE = "Consent receipt"
_MARGIN = 40


def _chunks(text: str, size: int = 64) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def build_consent_receipt(receipt: Mapping[str, Any], description: str = "") -> bytes:
    """One page: the event, the notice hash, the inclusion proof and the checkpoint."""
    try:
        event, checkpoint = receipt["event"], receipt["checkpoint"]
        inclusion, leaf = receipt["inclusion"], json.loads(receipt["leaf"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportDataError(f"not a consent receipt: {exc}") from None
    details = leaf.get("details") or {}
    story: list[Any] = [
        paragraph(PRODUCT_NAME.upper(), "small"),
        heading(TITLE),
        key_figures(
            [
                ("Event", str(event.get("id"))),
                ("Customer", str(event.get("customer_id"))),
                ("Purpose", str(event.get("purpose"))),
                ("Action", str(event.get("action"))),
                ("Source", str(event.get("source"))),
                ("Occurred at (UTC)", str(event.get("occurred_at"))),
                ("Recorded at (UTC)", str(event.get("recorded_at"))),
                ("Notice version", str(event.get("notice_version"))),
                ("Notice SHA-256", _chunks(str(details.get("notice_sha256")))),
            ]
        ),
    ]
    if description:
        story.append(paragraph(description, "small"))
    story += [
        heading("Proof in the audit log", 2),
        key_figures(
            [
                ("Leaf hash", _chunks(str(receipt.get("leaf_hash")))),
                ("Leaf index", str(inclusion.get("leaf_index"))),
                ("Tree size", str(inclusion.get("tree_size"))),
                ("Proof hashes", str(len(inclusion.get("proof") or []))),
                ("Checkpoint root", _chunks(str(checkpoint.get("root_hash")))),
                ("Checkpoint time", str(checkpoint.get("timestamp"))),
                ("Signing key id", str(checkpoint.get("key_id"))),
                ("Signature", _chunks(str(checkpoint.get("signature")))),
            ]
        ),
        Spacer(1, 6),
        notice(
            "Verify offline: save the JSON receipt (GET /api/v1/consents/"
            f"{event.get('id')}/receipt) and run: python -m audit receipt receipt.json "
            "--public-key audit-public-key.pem. It checks the leaf hash, the inclusion proof "
            "and the checkpoint signature, with no server and no database.",
            "info",
        ),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=TITLE,
        author=PRODUCT_NAME,
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()
