"""Plain result types of PII detection and the rule that resolves overlapping findings.

No Presidio here, so API and console code can import these without loading any model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field

from governance.services.pii.detection.errors import PiiRejectedError

# When two findings overlap and score the same, the more specific, validated type wins:
# an 18-digit string that passes GB 11643 is an ID even if it also passes Luhn.
PRIORITY: dict[str, int] = {
    "CN_RESIDENT_ID": 90,
    "CN_USCC": 80,
    "CREDIT_CARD": 70,
    "CN_BANK_CARD": 70,
    "IBAN_CODE": 65,
    "US_SSN": 60,
    "EMAIL_ADDRESS": 60,
    "PHONE_NUMBER": 50,
    "IP_ADDRESS": 50,
    "URL": 40,
    "PERSON": 30,
    "LOCATION": 20,
    "NRP": 10,
}

# Types found by NER or name patterns; they give way to any overlapping structured identifier
# ("Landline 0755-74735585" tagged PERSON by the model is a phone number).
NAME_TYPES = frozenset({"PERSON", "LOCATION", "NRP", "DATE_TIME", "ORGANIZATION"})

ACTIONS = ("accept", "flag", "redact", "reject")  # in increasing severity

# Full-width ASCII (U+FF01-FF5E) and the ideographic space, as typed with Chinese input
# methods, map one-to-one onto ASCII, so folding them keeps every character offset.
_WIDTH_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@dataclass(frozen=True)
class Finding:
    """One detected entity: its type and character offsets into the analysed text."""

    entity_type: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, object]:
        """JSON shape used by the API: ``entity_type, start, end, score``."""
        return {
            "entity_type": self.entity_type,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class WriteDecision:
    """Outcome of the write-time check of one free-text field."""

    field: str
    action: str
    findings: list[Finding]
    entity_counts: dict[str, int]
    text_to_store: str | None
    triggered_by: list[str] = dc_field(default_factory=list)
    # Findings still in ``text_to_store``, at their offsets there (redaction shifts them).
    stored_findings: list[Finding] = dc_field(default_factory=list)

    def raise_for_reject(self) -> None:
        """Raise PiiRejectedError (HTTP 422, naming entity types) when the action is reject."""
        if self.action == "reject":
            raise PiiRejectedError(self.field, self.triggered_by)

    def audit_details(self) -> dict[str, object]:
        """What the audit log records: field, action and entity counts, never values."""
        return {"field": self.field, "action": self.action, "entity_counts": self.entity_counts}


def fold_width(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII; same length, same offsets."""
    return text.translate(_WIDTH_FOLD)


def detect_language(text: str) -> str:
    """``zh`` when the text contains any CJK ideograph, else ``en``."""
    return "zh" if _CJK.search(text) else "en"


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep one finding per stretch of text.

    Structured identifiers beat NER/name findings; then the highest score, the type priority
    and the longest span win.

    Returns the kept findings sorted by start offset.
    """
    ranked = sorted(
        findings,
        key=lambda f: (
            f.entity_type in NAME_TYPES,
            -f.score,
            -PRIORITY.get(f.entity_type, 0),
            f.start - f.end,
            f.start,
        ),
    )
    kept: list[Finding] = []
    for cand in ranked:
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda f: (f.start, f.end))


def count_entities(findings: Iterable[Finding]) -> dict[str, int]:
    """``{entity_type: count}`` sorted by entity type."""
    return dict(sorted(Counter(f.entity_type for f in findings).items()))
