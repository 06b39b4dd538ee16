"""Breach notification rules (``policies/breach_rules.yaml``): who must be told, by when.

GDPR Art. 33/34, UK GDPR, PIPL Art. 57 with the CAC incident-reporting measures, California Civ.
Code 1798.82 and New York GBL 899-aa, as data. Each regime's notifications name a target
(authority, individuals, other), a deadline running from an incident event, the risk from which
the notice is required, exemptions and required content. Validation is strict and every error
names the file and the line; dates are computed from the incident's event times, so tests give
any clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from governance import jurisdictions
from governance.policyfiles import POLICY_DIR, PolicyFileError

FILE = "breach_rules.yaml"
TARGETS = ("authority", "individuals", "other")
EVENTS = ("detected", "aware", "contained", "assessed", "individuals_notified")
RISKS = ("unlikely", "risk", "high")
EXEMPTIONS = ("encrypted_keys_safe", "harm_mitigated")
CONTENT = (
    "nature",
    "categories",
    "approx_subjects",
    "approx_records",
    "dpo_contact",
    "consequences",
    "measures_taken",
    "measures_proposed",
    "delay_reasons",
    "timeline",
    "encryption",
    "remedial_measures",
    "individual_steps",
    "contact",
    "regulator_contact",
)
_NOTICE_KEYS = frozenset(
    {"target", "recipient", "deadline", "risk_threshold", "min_subjects", "exemptions", "content"}
)
_WITHIN = re.compile(r"^([1-9][0-9]{0,4})([hd])$")


@dataclass(frozen=True)
class NotificationRule:
    """One notice a regime requires."""

    regime: str
    target: str
    recipient: str
    within: timedelta
    event: str
    risk_threshold: str
    min_subjects: int
    exemptions: frozenset[str]
    content: tuple[str, ...]

    def due_at(self, events: dict[str, datetime | None]) -> datetime | None:
        """The due time from the incident's event times (None until the event happened)."""
        start = events.get(self.event)
        return start + self.within if start is not None else None

    def required(
        self,
        risk: str | None,
        subjects: int,
        encrypted_keys_safe: bool = False,
        harm_mitigated: bool = False,
    ) -> str | None:
        """None when the notice is required; otherwise the reason it is not (in words)."""
        level = RISKS.index(risk) if risk in RISKS else len(RISKS) - 1  # unassessed: high
        if level < RISKS.index(self.risk_threshold):
            return f"assessed risk {risk!r} is below the threshold {self.risk_threshold!r}"
        if subjects < self.min_subjects:
            return f"{subjects} affected people, fewer than {self.min_subjects}"
        if encrypted_keys_safe and "encrypted_keys_safe" in self.exemptions:
            return "exempt: the data was encrypted and its keys were not compromised"
        if harm_mitigated and "harm_mitigated" in self.exemptions:
            return "exempt: measures taken ensure the harm is no longer likely"
        return None


@dataclass(frozen=True)
class BreachRules:
    """The parsed rules: regime id -> its notifications."""

    regimes: dict[str, tuple[NotificationRule, ...]]

    def for_regimes(self, regime_ids: list[str] | tuple[str, ...]) -> list[NotificationRule]:
        """Every notification of the given regimes, in file order."""
        return [rule for rid in regime_ids for rule in self.regimes.get(rid, ())]

    def rule(self, regime: str, target: str) -> NotificationRule | None:
        """The notice of ``regime`` to ``target`` (None when the regime has none)."""
        return next((r for r in self.regimes.get(regime, ()) if r.target == target), None)


class _Lines(dict[Any, Any]):
    """A YAML mapping remembering the line of itself and of each key (1-based)."""

    line = 0
    key_lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> _Lines:
    mapping = _Lines(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {
        loader.construct_object(key, deep=True): key.start_mark.line + 1 for key, _ in node.value
    }
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _at(node: Any, key: Any = None) -> str:
    if isinstance(node, _Lines):
        line = node.key_lines.get(key, node.line) if key is not None else node.line
        return f"{FILE}, line {line}: "
    return f"{FILE}: "


def parse_text(text: str, regimes: jurisdictions.Jurisdictions | None = None) -> BreachRules:
    """Validate the text of ``breach_rules.yaml``; errors name the line."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"{FILE} is not valid YAML: {exc}") from None
    known = regimes or jurisdictions.current()
    if not isinstance(data, _Lines):
        raise PolicyFileError(f"{FILE} must be a mapping with 'version' and 'rules'")
    extra = sorted(set(data) - {"version", "rules"}, key=str)
    if extra:
        raise PolicyFileError(f"{_at(data, extra[0])}unknown field {extra[0]!r}")
    if data.get("version") != 1:
        raise PolicyFileError(f"{_at(data, 'version')}version must be 1")
    raw = data.get("rules")
    if not isinstance(raw, _Lines) or not raw:
        raise PolicyFileError(f"{_at(data, 'rules')}rules must map regime ids to notifications")
    parsed: dict[str, tuple[NotificationRule, ...]] = {}
    for regime_id, spec in raw.items():
        where = _at(raw, regime_id)
        known.require(str(regime_id), where)
        if not isinstance(spec, _Lines) or set(spec) != {"notifications"}:
            bad = sorted(set(spec) - {"notifications"}) if isinstance(spec, dict) else []
            what = f"unknown field {bad[0]!r}" if bad else "must have only 'notifications'"
            raise PolicyFileError(f"{_at(spec, bad[0]) if bad else where}{regime_id}: {what}")
        notices = spec["notifications"]
        if not isinstance(notices, list) or not notices:
            raise PolicyFileError(f"{_at(spec, 'notifications')}notifications must be a list")
        rules = [_notice(str(regime_id), item, _at(spec, "notifications")) for item in notices]
        targets = [r.target for r in rules]
        if len(set(targets)) != len(targets):
            raise PolicyFileError(f"{where}{regime_id} has two notifications to one target")
        parsed[str(regime_id)] = tuple(rules)
    return BreachRules(parsed)


def _notice(regime: str, item: Any, where: str) -> NotificationRule:
    if not isinstance(item, _Lines):
        raise PolicyFileError(f"{where}{regime}: each notification is a mapping")
    unknown = sorted(set(item) - _NOTICE_KEYS, key=str)
    if unknown:
        raise PolicyFileError(f"{_at(item, unknown[0])}unknown field {unknown[0]!r}")
    for key in ("target", "recipient", "deadline", "risk_threshold", "content"):
        if key not in item:
            raise PolicyFileError(f"{_at(item)}{regime}: a notification needs {key!r}")
    target = _one_of(item, "target", TARGETS)
    risk = _one_of(item, "risk_threshold", RISKS)
    if not isinstance(item["recipient"], str) or not item["recipient"].strip():
        raise PolicyFileError(f"{_at(item, 'recipient')}recipient must be a non-empty string")
    within, event = _deadline(item)
    minimum = item.get("min_subjects", 0)
    if type(minimum) is not int or minimum < 0:
        raise PolicyFileError(f"{_at(item, 'min_subjects')}min_subjects must be a whole number")
    exemptions = _listed(item, "exemptions", EXEMPTIONS)
    content = _listed(item, "content", CONTENT)
    if not content:
        raise PolicyFileError(f"{_at(item, 'content')}content must list at least one item")
    return NotificationRule(
        regime,
        target,
        item["recipient"].strip(),
        within,
        event,
        risk,
        minimum,
        frozenset(exemptions),
        tuple(content),
    )


def _one_of(item: _Lines, key: str, allowed: tuple[str, ...]) -> str:
    value = item[key]
    if value not in allowed:
        raise PolicyFileError(f"{_at(item, key)}{key} {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _listed(item: _Lines, key: str, allowed: tuple[str, ...]) -> list[str]:
    value = item.get(key, [])
    if not isinstance(value, list):
        raise PolicyFileError(f"{_at(item, key)}{key} must be a list")
    for name in value:
        if name not in allowed:
            raise PolicyFileError(
                f"{_at(item, key)}unknown {key} item {name!r} (known: {', '.join(allowed)})"
            )
    if len(set(value)) != len(value):
        raise PolicyFileError(f"{_at(item, key)}{key} lists an item twice")
    return [str(v) for v in value]


def _deadline(item: _Lines) -> tuple[timedelta, str]:
    spec = item["deadline"]
    if not isinstance(spec, _Lines) or set(spec) != {"within", "from"}:
        bad = sorted(set(spec) - {"within", "from"}, key=str) if isinstance(spec, dict) else []
        if bad:
            raise PolicyFileError(f"{_at(spec, bad[0])}unknown field {bad[0]!r}")
        raise PolicyFileError(f"{_at(item, 'deadline')}deadline is {{within: 72h, from: aware}}")
    match = _WITHIN.match(str(spec["within"]))
    if match is None:
        raise PolicyFileError(f"{_at(spec, 'within')}within is hours or days: 72h, 30d")
    amount = int(match.group(1))
    within = timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)
    if spec["from"] not in EVENTS:
        raise PolicyFileError(
            f"{_at(spec, 'from')}deadline event {spec['from']!r} is not one of {', '.join(EVENTS)}"
        )
    return within, str(spec["from"])


def load(policy_dir: Path | None = None) -> BreachRules:
    """Parse and validate ``policies/breach_rules.yaml`` (uncached)."""
    path = (policy_dir or POLICY_DIR) / FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(f"policy file {path} is missing") from None
    regimes = jurisdictions.load(policy_dir) if policy_dir else None
    return parse_text(text, regimes)


@lru_cache(maxsize=1)
def current() -> BreachRules:
    """The rules of the installed ``policies/`` directory, parsed once per process."""
    return load()
