"""Masking personal data inside free text for roles that see the matching field masked.

A note that says "call back on 13912345678" must not show support the phone number that the
``phone`` field masks. Each entity type maps to the customer field declared to hold it
(``expected_pii`` in ``policies/fields.yaml``: ``PHONE_NUMBER`` -> ``phone``); a role's level for
that field (``policies/visibility.yaml``, reveal included) decides the span: clear stays, masked
gets the field's own mask (``139****5678``, ``z***@example.cn``), hidden becomes ``[masked]``.

Spans are found once, at write time, and stored sealed beside the text (``encode_spans``), so
reads cost one decryption per note, not an analysis. No Presidio import here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from governance.security.masking import (
    CLEAR,
    MASKED,
    TEXT_MASK,
    VisibilityPolicy,
    mask_value,
)
from governance.services.pii.detection.results import Finding

# mask kind per entity type; None means the span stays in clear
Maskers = Mapping[str, str | None]


def entity_fields(rules: Mapping[tuple[str, str], Any], table: str = "customers") -> dict[str, str]:
    """``{entity_type: field}`` from the ``expected_pii`` of ``table``'s field rules."""
    out: dict[str, str] = {}
    for (rule_table, field), rule in sorted(rules.items()):
        if rule_table == table:
            for entity in rule.expected_pii:
                out.setdefault(entity, field)
    return out


def maskers_for(
    policy: VisibilityPolicy,
    roles: Iterable[str],
    fields: Mapping[str, str],
    *,
    reveal: bool = False,
) -> dict[str, str]:
    """``{entity_type: mask kind}`` for the types ``roles`` must not see in clear in free text.

    A masked field's type uses that field's mask; a hidden field's type becomes ``[masked]``
    (its shape would already say more than the role may see).
    """
    roles = list(roles)
    out: dict[str, str] = {}
    for entity, field in fields.items():
        level = policy.level(roles, field, reveal=reveal)
        if level == MASKED:
            out[entity] = policy.masks.get(field, "text")
        elif level != CLEAR:
            out[entity] = "text"
    return out


def mask_text(text: str, spans: Iterable[Finding], maskers: Maskers) -> str:
    """``text`` with each span whose type has a masker replaced by its mask.

    Spans outside the text or overlapping an earlier span are skipped, so stale offsets never
    cut a word in two twice.
    """
    pieces: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        kind = maskers.get(span.entity_type)
        if kind is None or span.start < cursor or span.end > len(text) or span.start >= span.end:
            continue
        pieces.append(text[cursor : span.start])
        masked = mask_value(kind, text[span.start : span.end])
        pieces.append(masked if isinstance(masked, str) else TEXT_MASK)
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def encode_spans(findings: Iterable[Finding]) -> str:
    """Types and offsets as compact JSON (no values), to be sealed beside the text."""
    return json.dumps([[f.entity_type, f.start, f.end] for f in findings], separators=(",", ":"))


def decode_spans(data: str) -> list[Finding]:
    """The spans written by ``encode_spans`` (score 1.0: they were kept at write time)."""
    return [Finding(str(kind), int(start), int(end), 1.0) for kind, start, end in json.loads(data)]
