"""One error tree per package (issue 12 item 7): every error class of ``governance`` derives from
``GovernanceError`` (an HTTP status and a stable ``type`` slug), every error class of ``audit``
from ``AuditError``; the slugs and statuses clients already see stay as they were; an internal
error that reaches the edge says nothing of itself to the client."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType
from typing import Any

import pytest

import audit
import governance
from audit.errors import AuditError
from governance.crypto import CryptoError, IntegrityError
from governance.errors import GovernanceError, InternalError


def _modules(package: ModuleType) -> list[ModuleType]:
    found = pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    names = [m.name for m in found if not m.name.endswith(".__main__")]  # that one runs
    return [importlib.import_module(n) for n in [package.__name__, *names]]


def _errors(package: ModuleType) -> list[type[BaseException]]:
    """The exception classes defined (not merely imported) in ``package``'s modules."""
    return [
        cls
        for module in _modules(package)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == module.__name__
    ]


def test_every_governance_error_is_a_governance_error_with_status_and_slug() -> None:
    errors = _errors(governance)
    assert len(errors) > 30  # the walk found the package's modules
    strays = [c for c in errors if not issubclass(c, GovernanceError)]
    assert [f"{c.__module__}.{c.__qualname__}" for c in strays] == []
    for cls in errors:
        assert isinstance(cls.status, int) and 400 <= cls.status <= 599, cls  # type: ignore[attr-defined]
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.slug), cls  # type: ignore[attr-defined]


def test_every_audit_error_is_an_audit_error() -> None:
    errors = _errors(audit)
    assert len(errors) >= 10
    assert [c.__qualname__ for c in errors if not issubclass(c, AuditError)] == []


# What clients were rendered before the tree was made: (class path, status, slug).
KEPT = [
    ("governance.errors.ValidationError", 422, "validation-error"),
    ("governance.errors.MalformedRequest", 400, "malformed-request"),
    ("governance.errors.UnsupportedMediaType", 415, "unsupported-media-type"),
    ("governance.errors.PayloadTooLarge", 413, "payload-too-large"),
    ("governance.errors.NotFound", 404, "not-found"),
    ("governance.errors.Conflict", 409, "conflict"),
    ("governance.errors.Unauthenticated", 401, "unauthenticated"),
    ("governance.errors.Forbidden", 403, "forbidden"),
    ("governance.errors.TooManyRequests", 429, "too-many-requests"),
    ("governance.errors.ServiceUnavailable", 503, "unavailable"),
    ("governance.services.pii.detection.errors.UnsupportedLanguageError", 422,
     "pii-unsupported-language"),
    ("governance.services.pii.detection.errors.PiiRejectedError", 422, "pii-rejected"),
    ("governance.security.masking.RevealNotAllowed", 403, "reveal-not-allowed"),
    ("governance.web.reauth.ReauthRequired", 401, "reauth-required"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "status", "slug"), KEPT)
def test_the_slugs_and_statuses_clients_know_are_kept(path: str, status: int, slug: str) -> None:
    module, name = path.rsplit(".", 1)
    cls: Any = getattr(importlib.import_module(module), name)
    assert (cls.status, cls.slug) == (status, slug)


def test_the_older_bases_still_catch_what_they_caught() -> None:
    from audit.proofcheck import ProofError
    from audit.store import MissingNodeError
    from governance.config import ConfigError
    from governance.services.customers.normalise import FieldError

    assert issubclass(ProofError, ValueError) and issubclass(MissingNodeError, LookupError)
    assert issubclass(ConfigError, ValueError) and issubclass(FieldError, ValueError)
    assert issubclass(CryptoError, InternalError)


def test_an_internal_error_at_the_edge_is_a_bare_500(app: Any) -> None:
    with app.test_request_context("/api/v1/customers"):
        from flask import g

        g.request_id = "req-1"
        exc = IntegrityError("tag mismatch", table="customers", column="email", subject_id="c_1")
        res = app.make_response(app.handle_user_exception(exc))
    assert res.status_code == 500
    body = res.get_json()
    assert body["type"].endswith("/internal-error")
    assert "customers" not in body["detail"] and "req-1" in body["detail"]
