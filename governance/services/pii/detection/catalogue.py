"""Which recogniser detects which entity type in which language: names only, no Presidio.

The engine instantiates exactly the recognisers this catalogue plans for a policy, and
``engine_status()`` reports the same plan, so what the server claims to detect and what it
detects cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "DATE_TIME")
# spaCy OntoNotes labels -> Presidio entity names (as in Presidio's conf/spacy.yaml).
NER_LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}


@dataclass(frozen=True)
class RecognizerSpec:
    """One recogniser: class name, the entity it reports, languages it can serve, origin."""

    name: str
    entity: str
    languages: tuple[str, ...]
    source: str  # "presidio", "project" or "ner"


BOTH = ("en", "zh")
CATALOGUE: tuple[RecognizerSpec, ...] = (
    RecognizerSpec("OfflineEmailRecognizer", "EMAIL_ADDRESS", BOTH, "presidio"),
    RecognizerSpec("RegionPhoneRecognizer", "PHONE_NUMBER", BOTH, "presidio"),
    RecognizerSpec("CnMobileRecognizer", "PHONE_NUMBER", BOTH, "project"),
    RecognizerSpec("PaymentCardRecognizer", "CREDIT_CARD", BOTH, "project"),
    RecognizerSpec("CnBankCardRecognizer", "CN_BANK_CARD", BOTH, "project"),
    RecognizerSpec("CnResidentIdRecognizer", "CN_RESIDENT_ID", BOTH, "project"),
    RecognizerSpec("CnUsccRecognizer", "CN_USCC", BOTH, "project"),
    RecognizerSpec("IbanRecognizer", "IBAN_CODE", BOTH, "presidio"),
    RecognizerSpec("IpRecognizer", "IP_ADDRESS", BOTH, "presidio"),
    RecognizerSpec("BoundedUrlRecognizer", "URL", BOTH, "presidio"),
    RecognizerSpec("UsSsnRecognizer", "US_SSN", BOTH, "presidio"),
    RecognizerSpec("ZhPersonRecognizer", "PERSON", ("zh",), "project"),
    RecognizerSpec("UsLicenseRecognizer", "US_DRIVER_LICENSE", ("en",), "presidio"),
    RecognizerSpec("UsBankRecognizer", "US_BANK_NUMBER", ("en",), "presidio"),
    RecognizerSpec("UsPassportRecognizer", "US_PASSPORT", ("en",), "presidio"),
    RecognizerSpec("UsItinRecognizer", "US_ITIN", ("en",), "presidio"),
    RecognizerSpec("NhsRecognizer", "UK_NHS", ("en",), "presidio"),
    RecognizerSpec("CryptoRecognizer", "CRYPTO", BOTH, "presidio"),
    RecognizerSpec("MedicalLicenseRecognizer", "MEDICAL_LICENSE", ("en",), "presidio"),
) + tuple(RecognizerSpec("SpacyRecognizer", e, ("en",), "ner") for e in NER_ENTITIES)

KNOWN_ENTITIES: frozenset[str] = frozenset(spec.entity for spec in CATALOGUE)
SUPPORTED_LANGUAGES = BOTH


def plan(
    enabled: dict[str, tuple[str, ...]], ner_languages: tuple[str, ...]
) -> dict[str, list[RecognizerSpec]]:
    """Recognisers to run per language, given enabled entities and languages with live NER.

    ``enabled`` maps each enabled entity type to the languages the policy turns it on for.
    """
    out: dict[str, list[RecognizerSpec]] = {}
    for entity, languages in enabled.items():
        for spec in CATALOGUE:
            if spec.entity != entity:
                continue
            for lang in languages:
                if lang not in spec.languages:
                    continue
                if spec.source == "ner" and lang not in ner_languages:
                    continue
                out.setdefault(lang, []).append(spec)
    return out


def inactive(
    enabled: dict[str, tuple[str, ...]], planned: dict[str, list[RecognizerSpec]]
) -> dict[str, list[str]]:
    """Enabled entity types that no recogniser serves, per language (shown on the status page)."""
    missing: dict[str, list[str]] = {}
    for entity, languages in enabled.items():
        for lang in languages:
            if not any(s.entity == entity for s in planned.get(lang, [])):
                missing.setdefault(lang, []).append(entity)
    return missing
