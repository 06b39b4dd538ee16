"""Loader and validator of ``policies/pii.yaml``: entities, thresholds, context, write policy.

Every error raises ``PiiPolicyError`` naming the offending key (``entities.PHONE_NUMBER.regions``),
never a value from customer data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from governance.policyfiles import POLICY_DIR, PolicyFileError, load_yaml
from governance.services.pii.detection.catalogue import KNOWN_ENTITIES, SUPPORTED_LANGUAGES
from governance.services.pii.detection.errors import PiiPolicyError, UnknownFieldError
from governance.services.pii.detection.results import ACTIONS

DEFAULT_POLICY_PATH = POLICY_DIR / "pii.yaml"
_TOP_KEYS = {"version", "languages", "context_window", "ner", "entities", "write_policy"}
_NER_KEYS = {"package", "version", "sha256", "languages", "score", "on_failure"}
_ENTITY_KEYS = {"enabled", "threshold", "languages", "context", "regions"}
_FIELD_KEYS = {"reject", "redact", "flag", "accept", "redaction"}


@dataclass(frozen=True)
class NerSettings:
    """The spaCy NER package the policy trusts, pinned by version and SHA-256 of ``ner/model``."""

    package: str
    version: str
    sha256: str
    languages: tuple[str, ...]
    score: float
    on_failure: str  # "degrade" or "error"


@dataclass(frozen=True)
class EntityRule:
    """Whether an entity type is detected, from what score, in which languages, with which words."""

    name: str
    enabled: bool
    threshold: float
    languages: tuple[str, ...]
    context: dict[str, tuple[str, ...]] = field(default_factory=dict)
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldPolicy:
    """Write-time policy of one free-text field: the action each entity type triggers."""

    field: str
    actions: dict[str, str]
    default_action: str
    redaction: str

    def action_for(self, entity_type: str) -> str:
        """Action for one entity type (``*`` in the policy sets the default)."""
        return self.actions.get(entity_type, self.default_action)


@dataclass(frozen=True)
class PiiPolicy:
    """The parsed, validated PII policy."""

    languages: tuple[str, ...]
    ner: NerSettings
    entities: dict[str, EntityRule]
    fields: dict[str, FieldPolicy]
    context_before: int = 5
    context_after: int = 1
    source: str = ""

    def enabled(self) -> dict[str, tuple[str, ...]]:
        """``{entity: languages}`` for every enabled entity type."""
        return {n: r.languages for n, r in self.entities.items() if r.enabled and r.languages}

    def field_policy(self, field_name: str) -> FieldPolicy:
        """Write policy of a field; raises UnknownFieldError if the policy has none."""
        try:
            return self.fields[field_name]
        except KeyError:
            raise UnknownFieldError(field_name) from None


def _fail(where: str, message: str) -> PiiPolicyError:
    return PiiPolicyError(f"pii.yaml: {where}: {message}")


def _mapping(value: Any, where: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be a mapping")
    if allowed is not None:
        unknown = sorted(set(map(str, value)) - allowed)
        if unknown:
            raise _fail(
                f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, "must be a list of non-empty strings")
    return tuple(value)


def _score(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fail(where, "must be a number between 0 and 1")
    return float(value)


def _languages(value: Any, where: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    langs = _strings(value, where)
    for i, lang in enumerate(langs):
        if lang not in allowed:
            raise _fail(f"{where}[{i}]", f"language must be one of {', '.join(allowed)}")
    return langs


def _ner(raw: Any, languages: tuple[str, ...]) -> NerSettings:
    data = _mapping(raw, "ner", _NER_KEYS)
    for key in ("package", "version", "sha256"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise _fail(f"ner.{key}", "is required and must be a string")
    digest = data["sha256"].lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _fail("ner.sha256", "must be 64 hexadecimal characters")
    on_failure = data.get("on_failure", "degrade")
    if on_failure not in ("degrade", "error"):
        raise _fail("ner.on_failure", "must be degrade or error")
    return NerSettings(
        package=data["package"],
        version=data["version"],
        sha256=digest,
        languages=_languages(data.get("languages", ["en"]), "ner.languages", languages),
        score=_score(data.get("score", 0.85), "ner.score"),
        on_failure=on_failure,
    )


def _entity(name: str, raw: Any, languages: tuple[str, ...]) -> EntityRule:
    where = f"entities.{name}"
    if name not in KNOWN_ENTITIES:
        raise _fail(where, f"unknown entity type (known: {', '.join(sorted(KNOWN_ENTITIES))})")
    data = _mapping(raw, where, _ENTITY_KEYS)
    if not isinstance(data.get("enabled"), bool):
        raise _fail(f"{where}.enabled", "is required and must be true or false")
    context: dict[str, tuple[str, ...]] = {}
    for lang, words in _mapping(data.get("context", {}), f"{where}.context").items():
        _languages([lang], f"{where}.context", languages)
        context[lang] = tuple(w.lower() for w in _strings(words, f"{where}.context.{lang}"))
    regions = _strings(data.get("regions", []), f"{where}.regions")
    for i, region in enumerate(regions):
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise _fail(f"{where}.regions[{i}]", "is not a phonenumbers region code")
    if regions and name != "PHONE_NUMBER":
        raise _fail(f"{where}.regions", "only PHONE_NUMBER takes regions")
    return EntityRule(
        name=name,
        enabled=data["enabled"],
        threshold=_score(data.get("threshold", 0.5), f"{where}.threshold"),
        languages=_languages(
            data.get("languages", list(languages)), f"{where}.languages", languages
        ),
        context=context,
        regions=regions,
    )


def _field(name: str, raw: Any, entities: dict[str, EntityRule]) -> FieldPolicy:
    where = f"write_policy.{name}"
    data = _mapping(raw, where, _FIELD_KEYS)
    actions: dict[str, str] = {}
    default = "accept"
    for action in ACTIONS:
        for i, entity in enumerate(_strings(data.get(action, []), f"{where}.{action}")):
            spot = f"{where}.{action}[{i}]"
            if entity == "*":
                if default != "accept" or action == "accept":
                    raise _fail(spot, "'*' may appear once, outside accept")
                default = action
            elif entity not in entities:
                raise _fail(spot, "entity type is not listed under entities")
            elif entity in actions:
                raise _fail(spot, "entity type is listed under two actions")
            else:
                actions[entity] = action
    redaction = data.get("redaction", "replace")
    if redaction not in ("replace", "mask"):
        raise _fail(f"{where}.redaction", "must be replace or mask")
    return FieldPolicy(field=name, actions=actions, default_action=default, redaction=redaction)


def parse_policy(data: Any, source: str = "") -> PiiPolicy:
    """Validate an already-parsed YAML document; raises PiiPolicyError naming the bad key."""
    data = _mapping(data, "(top level)", _TOP_KEYS)
    if data.get("version") != 1:
        raise _fail("version", "must be 1")
    languages = _languages(data.get("languages"), "languages", SUPPORTED_LANGUAGES)
    if "ner" not in data:
        raise _fail("ner", "is required")
    window = _mapping(data.get("context_window", {}), "context_window", {"before", "after"})
    for key in window:
        if not isinstance(window[key], int) or isinstance(window[key], bool) or window[key] < 0:
            raise _fail(f"context_window.{key}", "must be a non-negative integer")
    entities = {
        str(n): _entity(str(n), r, languages)
        for n, r in _mapping(data.get("entities"), "entities").items()
    }
    person = entities.get("PERSON")
    if person and person.enabled and "zh" in person.languages and not person.context.get("zh"):
        raise _fail("entities.PERSON.context.zh", "Chinese names need at least one context word")
    fields = {
        str(n): _field(str(n), r, entities)
        for n, r in _mapping(data.get("write_policy", {}), "write_policy").items()
    }
    return PiiPolicy(
        languages=languages,
        ner=_ner(data["ner"], languages),
        entities=entities,
        fields=fields,
        context_before=window.get("before", 5),
        context_after=window.get("after", 1),
        source=source,
    )


def load_policy(path: Path | str | None = None) -> PiiPolicy:
    """Read and validate ``policies/pii.yaml`` (or ``path``); raises PiiPolicyError."""
    target = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        data = load_yaml(target.name, target.parent)
    except PolicyFileError as exc:
        raise PiiPolicyError(str(exc)) from None
    return parse_policy(data, source=str(target))
