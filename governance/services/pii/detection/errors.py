"""Errors raised by the PII detection service; messages name keys and entity types, never values."""

from __future__ import annotations

from governance.errors import InternalError, ValidationError
from governance.policyfiles import PolicyFileError


class PiiPolicyError(PolicyFileError):
    """``policies/pii.yaml`` is missing or malformed; the message names the offending key."""


class UnknownFieldError(InternalError, KeyError):
    """A write-time check was asked for a field that has no policy in ``write_policy``."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        return f"no PII write policy for field {self.field!r} in policies/pii.yaml"


class UnsupportedLanguageError(ValidationError):
    """The requested language is not one the PII policy enables (422 at the API)."""

    slug = "pii-unsupported-language"
    title = "Unsupported language for PII detection"


class PiiRejectedError(ValidationError):
    """Free text was refused by the field's write policy (422), naming the entity types found."""

    slug = "pii-rejected"
    title = "Personal data not allowed in this field"

    def __init__(self, field: str, entity_types: list[str]) -> None:
        detail = f"{field} contains personal data of type(s): {', '.join(entity_types)}"
        super().__init__(
            detail,
            errors=[{"field": field, "message": detail, "entity_types": list(entity_types)}],
        )
        self.field = field
        self.entity_types = list(entity_types)


class NerModelRefused(InternalError, RuntimeError):
    """The policy says ``ner.on_failure: error`` and the NER package failed verification."""


class PiiAnalysisError(InternalError, RuntimeError):
    """Presidio failed on a text; the message names the exception type, never the text."""
