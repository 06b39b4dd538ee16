"""Process-wide PII engine and the calls the API, console and CLI make. Flask-free, no database.

Nothing heavy happens at import: the engine (Presidio, spaCy, the NER model) is built on the
first call that needs it, once per process, so a web worker that never analyses text never
loads a model.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from governance.services.pii.detection.model import check_ner_model
from governance.services.pii.detection.policy import PiiPolicy, load_policy
from governance.services.pii.detection.redaction import decide
from governance.services.pii.detection.results import Finding, WriteDecision, detect_language
from governance.services.pii.detection.status import describe, rss_mb

if TYPE_CHECKING:
    from governance.services.pii.detection.engine import PiiEngine

_lock = threading.Lock()
_engine: PiiEngine | None = None
_policy: PiiPolicy | None = None


def get_policy() -> PiiPolicy:
    """The validated ``policies/pii.yaml``, read once per process; raises PiiPolicyError."""
    global _policy
    with _lock:
        if _policy is None:
            _policy = load_policy()
        return _policy


def get_engine() -> PiiEngine:
    """The process-wide engine, built on first use from ``policies/pii.yaml``."""
    global _engine
    policy = get_policy()
    with _lock:
        if _engine is None:
            from governance.services.pii.detection.engine import PiiEngine

            _engine = PiiEngine(policy)
        return _engine


def engine_loaded() -> bool:
    """Whether this process has built the engine yet."""
    return _engine is not None


def engine_status() -> dict[str, Any]:
    """What is detected, by which recognisers, with which NER model (without loading it).

    ``ner_model`` is ``{name, version, sha256, verified}`` or ``"none (degraded)"``; ``inactive``
    lists entity types the policy enables but nothing detects. Before the first PII call the
    report comes from the policy and a hash check of the model file, with ``loaded: False``.
    """
    if _engine is not None:
        return _engine.status()
    policy = get_policy()
    report = describe(policy, check_ner_model(policy.ner))
    report["rss_mb"] = round(rss_mb(), 1)
    return report


def analyze(text: str, language: str | None = "en") -> list[Finding]:
    """Findings in ``text`` sorted by start (``language=None``: detect it).

    Raises UnsupportedLanguageError for a language the policy does not enable.
    """
    lang = language or detect_language(text)
    return get_engine().analyze(text, lang)


def decide_write(field: str, text: str | None, language: str | None = None) -> WriteDecision:
    """Apply ``write_policy.<field>`` to free text about to be stored.

    Raises UnknownFieldError when the policy has no entry for ``field`` and
    UnsupportedLanguageError for a language the policy does not enable. Call
    ``decision.raise_for_reject()`` to turn a reject into a 422 PiiRejectedError.
    """
    rule = get_policy().field_policy(field)
    if not text:
        return decide(rule, text or "", [])
    lang = language or detect_language(text)
    return decide(rule, text, get_engine().analyze(text, lang))
