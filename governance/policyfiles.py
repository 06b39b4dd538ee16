"""Loading the DPO-edited data files under ``policies/`` (YAML), with errors naming the key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.errors import InternalError

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"


class PolicyFileError(InternalError, ValueError):
    """A policy file is missing or malformed; the message names the file and key."""


def load_yaml(name: str, policy_dir: Path | None = None) -> Any:
    """Parse ``policies/<name>``."""
    path = (policy_dir or POLICY_DIR) / name
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise PolicyFileError(f"policy file {path} is missing") from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"policy file {path} is not valid YAML: {exc}") from None


@dataclass(frozen=True)
class FieldRule:
    """How one field of the store is classified and protected."""

    table: str
    name: str
    sensitive: bool
    encrypted: bool
    blind_index: str | None = None
    expected_pii: tuple[str, ...] = ()


RULE_KEYS = frozenset({"sensitive", "encrypted", "blind_index", "expected_pii"})
_ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


def _expected_pii(value: Any, where: str) -> tuple[str, ...]:
    """``expected_pii``: a list of distinct entity type names (``EMAIL_ADDRESS``)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyFileError(f"{where}: expected_pii must be a list of entity type names")
    for name in value:
        if not _ENTITY_NAME.match(name):
            raise PolicyFileError(f"{where}: expected_pii has a malformed entity type {name!r}")
    if len(set(value)) != len(value):
        raise PolicyFileError(f"{where}: expected_pii lists an entity type twice")
    return tuple(value)


def load_field_rules(policy_dir: Path | None = None) -> dict[tuple[str, str], FieldRule]:
    """``policies/fields.yaml`` as ``{(table, field): FieldRule}``."""
    data = load_yaml("fields.yaml", policy_dir)
    if not isinstance(data, dict):
        raise PolicyFileError("fields.yaml must map table names to fields")
    rules: dict[tuple[str, str], FieldRule] = {}
    for table, fields in data.items():
        if not isinstance(fields, dict):
            raise PolicyFileError(f"fields.yaml: {table} must map field names to rules")
        for name, rule in fields.items():
            where = f"fields.yaml: {table}.{name}"
            if not isinstance(rule, dict) or set(rule) - RULE_KEYS:
                raise PolicyFileError(
                    f"{where} must have only sensitive/encrypted/blind_index/expected_pii"
                )
            if not all(isinstance(rule.get(k, False), bool) for k in ("sensitive", "encrypted")):
                raise PolicyFileError(f"{where}: sensitive and encrypted must be true or false")
            index = rule.get("blind_index")
            if index is not None and not rule.get("encrypted"):
                raise PolicyFileError(f"{where}: a blind index only makes sense when encrypted")
            rules[(table, name)] = FieldRule(
                table,
                name,
                bool(rule.get("sensitive")),
                bool(rule.get("encrypted")),
                index,
                _expected_pii(rule.get("expected_pii"), where),
            )
    return rules


def load_purposes(policy_dir: Path | None = None) -> dict[str, bool]:
    """``policies/purposes.yaml`` as ``{name: is a system purpose}`` (``governance.purposes``
    holds the whole file: bases, fields, roles). Raises PolicyFileError naming file and line."""
    from governance.purposes import load

    return {name: spec.system for name, spec in load(policy_dir).specs.items()}
