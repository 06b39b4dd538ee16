"""Domain errors and their rendering as RFC 9457 problem details (API) or HTML (console).

Services raise ``GovernanceError`` subclasses; they never import Flask. Messages carry ids and
field names only, never personal data. Every error class of the ``governance`` package derives
from ``GovernanceError`` (one small tree per package below it: ``crypto.errors``,
``services/pii/detection/errors.py``, ...), so each one has an HTTP status and a stable ``type``
slug; ``InternalError`` marks the ones that are the server's fault. The ``audit`` and ``reports``
libraries have their own roots (``audit.errors.AuditError``, ``reports._base.ReportDataError``).
"""

from __future__ import annotations

from typing import Any


class GovernanceError(Exception):
    """Base of every error a client may see; carries an HTTP status and a stable type slug."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str = "", errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []


class ValidationError(GovernanceError):
    """Input failed validation; ``errors`` lists ``{"field", "message"}`` items."""

    status = 422
    slug = "validation-error"
    title = "Validation failed"


class MalformedRequest(GovernanceError):
    """The request body or parameters could not be parsed."""

    status = 400
    slug = "malformed-request"
    title = "Malformed request"


class UnsupportedMediaType(GovernanceError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class PayloadTooLarge(GovernanceError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class NotFound(GovernanceError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(GovernanceError):
    """The request conflicts with existing data (for example a duplicate customer)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthenticated(GovernanceError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(GovernanceError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class TooManyRequests(GovernanceError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"


class ServiceUnavailable(GovernanceError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"


class InternalError(GovernanceError):
    """A fault of the server, its configuration or its stored data, not of the request.

    Rendered like any unexpected error (500 ``internal-error``, a generic detail with the request
    id): its message is for the log and the CLI, never for an HTTP client. Each package's own
    internal errors derive from it (``crypto.CryptoError``, ``config.ConfigError``,
    ``policyfiles.PolicyFileError``, the PII engine's failures, the checkpoint witness).
    """

    status = 500
    slug = "internal-error"
    title = "Internal error"


TYPE_BASE = "https://governance.example/problems/"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build an RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body
