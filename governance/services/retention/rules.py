"""Retention rules as policy data: ``policies/retention.yaml`` parsed and strictly validated.

Each rule names a data category, a period in days, the event the period runs from, the action at
expiry and its legal reference (GDPR Art. 5(1)(e), PIPL Art. 19). Validation is strict and every
error names the file and the line of the offending value, so a DPO's typo stops the server
instead of silently keeping (or removing) data.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.policyfiles import POLICY_DIR, PolicyFileError

FILE = "retention.yaml"
CATEGORIES = (
    "customer_profile",
    "orders",
    "interactions",
    "consent_evidence",
    "pii_findings",
    "exports_reports",
    "audit_log",
    "backups",
)
EVENTS = ("last_activity", "contract_end", "consent_withdrawal", "account_closure", "creation")
ACTIONS = ("crypto_shred", "delete", "anonymise", "keep")
RULE_KEYS = frozenset({"id", "category", "period_days", "from", "action", "legal_reference"})
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class RetentionRule:
    """One rule: keep ``category`` for ``period_days`` from ``event``, then ``action``."""

    id: str
    category: str
    period_days: int | None
    event: str
    action: str
    legal_reference: str
    line: int = 0

    @property
    def expires(self) -> bool:
        return self.action != "keep"


@dataclass(frozen=True)
class RetentionPolicy:
    """The parsed ``retention.yaml``."""

    rules: tuple[RetentionRule, ...]

    def for_category(self, category: str) -> list[RetentionRule]:
        return [r for r in self.rules if r.category == category]

    def rule(self, rule_id: str) -> RetentionRule:
        for found in self.rules:
            if found.id == rule_id:
                return found
        raise KeyError(rule_id)


def _err(node: yaml.Node | None, message: str) -> PolicyFileError:
    line = f" line {node.start_mark.line + 1}" if node is not None else ""
    return PolicyFileError(f"{FILE}{line}: {message}")


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node as ``{key: (key node, value node)}``."""
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    assert isinstance(node, yaml.MappingNode)
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _err(key, "keys must be plain names")
        if key.value in out:
            raise _err(key, f"{key.value!r} is given twice")
        out[key.value] = (key, value)
    return out


def parse_text(text: str) -> RetentionPolicy:
    """Validate the text of a retention file; PolicyFileError naming the line otherwise."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"{FILE} is not valid YAML: {exc}") from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise _err(root, "must be a mapping with 'version' and 'rules'")
    nodes = _mapping(root)
    unknown = set(nodes) - {"version", "rules"}
    if unknown:
        name = sorted(unknown)[0]
        raise _err(nodes[name][0], f"unknown key {name!r} (expected version and rules)")
    if data.get("version") != 1:
        raise _err(nodes.get("version", (root, root))[1], "version must be 1")
    if "rules" not in nodes or not isinstance(data["rules"], list) or not data["rules"]:
        raise _err(nodes.get("rules", (root, root))[1], "rules must be a non-empty list")
    rule_nodes = nodes["rules"][1]
    assert isinstance(rule_nodes, yaml.SequenceNode)
    rules: list[RetentionRule] = []
    for index, (node, raw) in enumerate(zip(rule_nodes.value, data["rules"], strict=True)):
        rules.append(_rule(index, node, raw))
    seen: set[str] = set()
    for index, (rule, node) in enumerate(zip(rules, rule_nodes.value, strict=True)):
        if rule.id in seen:
            raise _err(node, f"rules[{index}]: id {rule.id!r} is used twice")
        seen.add(rule.id)
    return RetentionPolicy(tuple(rules))


def _rule(index: int, node: yaml.Node, raw: Any) -> RetentionRule:
    where = f"rules[{index}]"
    if not isinstance(node, yaml.MappingNode) or not isinstance(raw, dict):
        raise _err(node, f"{where} must be a mapping")
    fields = _mapping(node)
    for name, (key, _) in fields.items():
        if name not in RULE_KEYS:
            raise _err(key, f"{where}: unknown field {name!r}")
    for name in ("id", "category", "from", "action", "legal_reference"):
        if name not in fields:
            raise _err(node, f"{where}: {name} is required")
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise _err(fields[name][1], f"{where}.{name} must be a non-empty string")

    def check(name: str, allowed: tuple[str, ...], what: str) -> str:
        value = str(raw[name])
        if value not in allowed:
            raise _err(
                fields[name][1],
                f"{where}.{name}: unknown {what} {value!r} (known: {', '.join(allowed)})",
            )
        return value

    if not _RULE_ID.match(raw["id"]):
        raise _err(fields["id"][1], f"{where}.id: lower case letters, digits, - and _ only")
    category = check("category", CATEGORIES, "category")
    event = check("from", EVENTS, "event")
    action = check("action", ACTIONS, "action")
    period = raw.get("period_days")
    if "period_days" in fields:
        if type(period) is not int or period <= 0:
            raise _err(
                fields["period_days"][1],
                f"{where}.period_days must be a whole number of days greater than zero",
            )
    elif action != "keep":
        raise _err(node, f"{where}: period_days is required unless the action is keep")
    if category == "audit_log" and action != "keep":
        raise _err(
            fields["action"][1],
            f"{where}: the audit log can only be kept (erasing leaves breaks its proofs)",
        )
    return RetentionRule(
        raw["id"],
        category,
        period,
        event,
        action,
        raw["legal_reference"].strip(),
        node.start_mark.line + 1,
    )


def load(policy_dir: Path | None = None) -> RetentionPolicy:
    """Parse and validate ``policies/retention.yaml`` (uncached)."""
    path = (policy_dir or POLICY_DIR) / FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(f"policy file {path} is missing") from None
    return parse_text(text)


def check(path: Path) -> None:
    """Validate a retention file at ``path`` (the policy-validation registry's signature)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    parse_text(text)


@functools.lru_cache(maxsize=1)
def current() -> RetentionPolicy:
    """The rules of the installed ``policies/`` directory, parsed once per process."""
    return load()
