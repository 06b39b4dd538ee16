"""A cheap test run before the analyzer: can this text contain any configured entity at all?

Each enabled entity type contributes a necessary condition of its recognisers:

* every structured identifier (phone, cards, ids, USCC, IBAN, SSN, ...) contains a digit;
* an email contains ``@``; a URL contains ``x.tld``; an IPv6 address without digits a ``:``;
* Chinese names are only reported after a policy context word, so one must occur;
* English NER entities (PERSON, LOCATION, NRP) need a capital letter: the small spaCy model
  relies on capitalisation (a heuristic; the benchmark counts NER findings it loses);
* a type with no known condition (for example DATE_TIME) lets every text through.

For the structured types these are exact necessary conditions, so skipping a text never loses
a finding of those types.
"""

from __future__ import annotations

import re

from governance.services.pii.detection import catalogue
from governance.services.pii.detection.policy import PiiPolicy
from governance.services.pii.detection.results import fold_width

_DIGIT = r"\d"
_TRIGGERS: dict[str, str] = {
    "EMAIL_ADDRESS": "@",
    "URL": r"[A-Za-z0-9.\-]\.[A-Za-z]{2}",
    "IP_ADDRESS": r"\d|:",
}
_DIGIT_ENTITIES = frozenset(
    {
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "CN_BANK_CARD",
        "CN_RESIDENT_ID",
        "CN_USCC",
        "IBAN_CODE",
        "US_SSN",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "US_PASSPORT",
        "US_ITIN",
        "UK_NHS",
        "CRYPTO",
        "MEDICAL_LICENSE",
    }
)
_CAPITALISED = frozenset({"PERSON", "LOCATION", "NRP"})


class Prefilter:
    """``prefilter(text, language)`` is False only when no enabled recogniser could fire."""

    def __init__(self, policy: PiiPolicy) -> None:
        # Assume NER is live: a refused model only makes the filter let more through.
        plan = catalogue.plan(policy.enabled(), policy.ner.languages)
        self._always: dict[str, bool] = {}
        self._pattern: dict[str, re.Pattern[str] | None] = {}
        self._capitals: dict[str, bool] = {}
        for lang in policy.languages:
            parts: set[str] = set()
            always = capitals = False
            for spec in plan.get(lang, []):
                if spec.entity in _DIGIT_ENTITIES:
                    parts.add(_DIGIT)
                elif spec.entity in _TRIGGERS:
                    parts.add(_TRIGGERS[spec.entity])
                elif spec.name == "ZhPersonRecognizer":
                    words = policy.entities["PERSON"].context.get(lang, ())
                    parts.update(re.escape(w) for w in words)
                elif spec.source == "ner" and spec.entity in _CAPITALISED:
                    capitals = True
                else:
                    always = True
            self._always[lang] = always
            self._capitals[lang] = capitals
            self._pattern[lang] = re.compile("|".join(sorted(parts))) if parts else None

    def __call__(self, text: str, language: str) -> bool:
        """True when ``text`` may contain an entity enabled for ``language``."""
        if not text:
            return False
        if self._always.get(language, True):
            return True
        if self._capitals[language] and any(ch.isupper() for ch in text):
            return True
        pattern = self._pattern[language]
        return bool(pattern and pattern.search(fold_width(text)))
