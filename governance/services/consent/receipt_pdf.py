"""The one-page PDF of a consent receipt (``reports/consent_receipt.py``)."""

from __future__ import annotations

from typing import Any

from governance.purposes import current as purposes
from reports.consent_receipt import build_consent_receipt


def receipt_pdf(receipt: dict[str, Any]) -> bytes:
    """The receipt as a one-page PDF, with the purpose described in English and Chinese."""
    name = receipt["event"]["purpose"]
    spec = purposes().specs.get(name)
    text = f"{spec.text('en')} / {spec.text('zh')}" if spec else ""
    return build_consent_receipt(receipt, text)
