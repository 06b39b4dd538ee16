"""PII detection for English and Chinese free text: Presidio, offline, configured by policy.

Public API (Flask-free, no database):

* ``analyze(text, language="en") -> list[Finding]``; ``detect_language(text)``
* ``redact(text, findings, mode="replace"|"mask") -> str``
* ``decide_write(field, text, language=None) -> WriteDecision`` (``policies/pii.yaml``
  ``write_policy``: accept | flag | redact | reject)
* ``scan_texts(items, workers=2, batch_size=64, progress=None)`` for store scans, or a
  ``Scanner`` to keep the worker pool across several scans
* ``engine_status()`` for the start-up log and the status page; ``get_engine()``

Importing this package loads no model: the engine is built on the first call that needs it.
The environment is set here, before any submodule can import Presidio or tldextract, so that
tldextract never fetches the public-suffix list (it uses its bundled snapshot).
"""

from __future__ import annotations

import os

os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

from governance.services.pii.detection.errors import (  # noqa: E402
    NerModelRefused,
    PiiAnalysisError,
    PiiPolicyError,
    PiiRejectedError,
    UnknownFieldError,
    UnsupportedLanguageError,
)
from governance.services.pii.detection.policy import PiiPolicy, load_policy  # noqa: E402
from governance.services.pii.detection.redaction import redact  # noqa: E402
from governance.services.pii.detection.results import Finding, WriteDecision, detect_language  # noqa: E402
from governance.services.pii.detection.scan import Scanner, scan_texts  # noqa: E402
from governance.services.pii.detection.service import (  # noqa: E402
    analyze,
    decide_write,
    engine_loaded,
    engine_status,
    get_engine,
    get_policy,
)

__all__ = [
    "Finding",
    "NerModelRefused",
    "PiiAnalysisError",
    "PiiPolicy",
    "PiiPolicyError",
    "PiiRejectedError",
    "Scanner",
    "UnknownFieldError",
    "UnsupportedLanguageError",
    "WriteDecision",
    "analyze",
    "decide_write",
    "detect_language",
    "engine_loaded",
    "engine_status",
    "get_engine",
    "get_policy",
    "load_policy",
    "redact",
    "scan_texts",
]
