"""Analysis and redaction of one text for API callers, validated and audited without values.

``analyze_text`` and ``redact_text`` take the decoded JSON body, validate it before the engine is
touched (so a bad request never loads the NER model), and append ``pii.analyze`` / ``pii.redact``
audit entries holding the language, the text's length and entity counts: never the text or a
matched value (ARCHITECTURE invariant 8).
"""

from __future__ import annotations

from typing import Any

from governance.context import Call
from governance.errors import ValidationError

MAX_TEXT = 10_000  # characters; the longest free-text field the store accepts
ANALYZE_FIELDS = frozenset({"text", "language"})
REDACT_FIELDS = frozenset({"text", "language", "mode", "field"})
MODES = ("replace", "mask")


def _field_error(name: str, message: str) -> ValidationError:
    return ValidationError(f"{name} {message}", [{"field": name, "message": message}])


def _text_and_language(body: Any, allowed: frozenset[str]) -> tuple[str, str]:
    """The text and its language (given, or detected); ValidationError naming the field."""
    from governance.services.pii import detection as pii

    if not isinstance(body, dict):
        raise _field_error("", "expected a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _field_error(unknown[0], "is not a known field")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _field_error("text", "is required and must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise _field_error("text", f"is longer than {MAX_TEXT} characters")
    language = body.get("language")
    if language is None:
        return text, pii.detect_language(text)
    languages = pii.get_policy().languages
    if language not in languages:
        message = f"must be one of {', '.join(languages)}"
        raise pii.UnsupportedLanguageError(
            f"language {message}", [{"field": "language", "message": message}]
        )
    return text, str(language)


def _audit(call: Call, action: str, language: str, text: str, findings: list[Any]) -> None:
    from governance.services.pii.detection.results import count_entities

    call.audit.record(
        call.session,
        call.actor,
        action,
        now=call.now(),
        resource="pii",
        details={
            "language": language,
            "characters": len(text),
            "entity_counts": count_entities(findings),
        },
    )


def analyze_text(call: Call, body: Any) -> dict[str, Any]:
    """``{"language", "findings"}`` for ``body = {"text", "language"?}`` (audited)."""
    from governance.services.pii import detection as pii

    text, language = _text_and_language(body, ANALYZE_FIELDS)
    findings = pii.analyze(text, language)
    _audit(call, "pii.analyze", language, text, findings)
    return {"language": language, "findings": [f.to_dict() for f in findings]}


def _mode(body: dict[str, Any]) -> str:
    """``mode`` from the body, else the write policy of ``field``, else ``replace``."""
    from governance.services.pii import detection as pii

    field = body.get("field")
    redaction = None
    if field is not None:  # checked whether or not a mode is given: a bad field is never ignored
        if not isinstance(field, str):
            raise _field_error("field", "must be a string such as interactions.note")
        try:
            redaction = pii.get_policy().field_policy(field).redaction
        except pii.UnknownFieldError:
            raise _field_error("field", "has no write policy in policies/pii.yaml") from None
    mode = body.get("mode")
    if mode is not None:
        if mode not in MODES:
            raise _field_error("mode", "must be replace or mask")
        return str(mode)
    return redaction or "replace"


def redact_text(call: Call, body: Any) -> dict[str, Any]:
    """``{"text": redacted, "mode", "language", "findings"}`` (audited, counts only)."""
    from governance.services.pii import detection as pii

    text, language = _text_and_language(body, REDACT_FIELDS)
    mode = _mode(body)
    findings = pii.analyze(text, language)
    _audit(call, "pii.redact", language, text, findings)
    return {
        "text": pii.redact(text, findings, mode=mode),
        "mode": mode,
        "language": language,
        "findings": [f.to_dict() for f in findings],
    }
