"""Redaction of findings and the write-time decision for free-text fields. No Presidio import.

``redact`` replaces each finding by ``<ENTITY_TYPE>`` or masks it character by character (card
numbers keep their last four digits, as PCI DSS 3.4 allows). ``decide`` applies a field's write
policy: the most severe action triggered by any finding wins (reject > redact > flag > accept).
"""

from __future__ import annotations

from collections.abc import Iterable

from governance.services.pii.detection.policy import FieldPolicy
from governance.services.pii.detection.results import (
    ACTIONS,
    Finding,
    WriteDecision,
    count_entities,
)

REDACTION_MODES = ("replace", "mask")
_KEEP_LAST_FOUR = frozenset({"CREDIT_CARD", "CN_BANK_CARD"})
_KEEP = frozenset(" -")


def _mask(value: str, entity_type: str, mask_char: str) -> str:
    keep_from = len(value)
    if entity_type in _KEEP_LAST_FOUR:
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        keep_from = digits[-4] if len(digits) > 4 else len(value)
    return "".join(ch if ch in _KEEP or i >= keep_from else mask_char for i, ch in enumerate(value))


def redact(
    text: str, findings: Iterable[Finding], mode: str = "replace", mask_char: str = "*"
) -> str:
    """Text with each finding replaced by ``<ENTITY_TYPE>`` (replace) or masked (mask).

    Overlapping findings are merged into the first one. Raises ValueError for an unknown mode.
    """
    return _redact(text, findings, mode, mask_char)[0]


def _redact(
    text: str, findings: Iterable[Finding], mode: str, mask_char: str = "*"
) -> tuple[str, list[tuple[int, int, int]]]:
    """The redacted text and, per replaced span, ``(start, end, length of its replacement)``."""
    if mode not in REDACTION_MODES:
        raise ValueError(f"redaction mode must be one of {', '.join(REDACTION_MODES)}")
    if len(mask_char) != 1:
        raise ValueError("mask_char must be one character")
    pieces: list[str] = []
    replaced: list[tuple[int, int, int]] = []
    cursor = 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.start < cursor or f.end > len(text) or f.start >= f.end:
            continue
        pieces.append(text[cursor : f.start])
        value = text[f.start : f.end]
        piece = (
            f"<{f.entity_type}>" if mode == "replace" else _mask(value, f.entity_type, mask_char)
        )
        pieces.append(piece)
        replaced.append((f.start, f.end, len(piece)))
        cursor = f.end
    pieces.append(text[cursor:])
    return "".join(pieces), replaced


def _shift(findings: Iterable[Finding], replaced: list[tuple[int, int, int]]) -> list[Finding]:
    """Findings outside the replaced spans, moved to their offsets in the redacted text."""
    out = []
    for f in findings:
        if any(f.start < end and start < f.end for start, end, _ in replaced):
            continue
        delta = sum(size - (end - start) for start, end, size in replaced if end <= f.start)
        out.append(Finding(f.entity_type, f.start + delta, f.end + delta, f.score))
    return out


def decide(rule: FieldPolicy, text: str, findings: list[Finding]) -> WriteDecision:
    """Apply a field's write policy to the findings of ``text``."""
    pairs = [(f, rule.action_for(f.entity_type)) for f in findings]
    action = max((a for _, a in pairs), key=ACTIONS.index, default="accept")
    triggered = sorted({f.entity_type for f, a in pairs if a == action})
    stored_findings: list[Finding] = []
    if action == "reject":
        stored: str | None = None
    elif action == "redact":
        to_hide = [f for f, a in pairs if a == "redact"]
        stored, replaced = _redact(text, to_hide, rule.redaction)
        stored_findings = _shift(findings, replaced)
    else:
        stored, stored_findings = text, list(findings)
    return WriteDecision(
        field=rule.field,
        action=action,
        findings=findings,
        entity_counts=count_entities(findings),
        text_to_store=stored,
        triggered_by=triggered if action != "accept" else [],
        stored_findings=stored_findings,
    )
