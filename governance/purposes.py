"""Purposes of processing and their lawful bases (``policies/purposes.yaml``).

Each purpose names its lawful basis (GDPR Art. 6(1), PIPL Art. 13), the fields it may use, the
service and person roles that may declare it, whether a person may object to it (GDPR Art. 21)
and a description in English and Chinese. The file is parsed from YAML nodes so that every error
names the file and line; it is loaded once per process (``current``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from governance.policyfiles import POLICY_DIR, PolicyFileError, load_field_rules

FILE = "purposes.yaml"
BASES = (
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interest",
    "vital_interest",
    "public_task",
)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PURPOSE_KEYS = frozenset({"basis", "fields", "services", "people", "objectable", "description"})
_SYSTEM_KEYS = frozenset({"basis", "description"})
_LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class PurposeSpec:
    """One purpose as the DPO declared it."""

    name: str
    basis: str
    system: bool
    fields: frozenset[str] = frozenset()
    """Qualified field names: ``customers.email``, ``orders.amount``."""
    services: frozenset[str] = frozenset()
    people: frozenset[str] = frozenset()
    objectable: bool = False
    description: tuple[tuple[str, str], ...] = ()

    @property
    def consent_based(self) -> bool:
        return self.basis == "consent"

    def may_declare(self, roles: tuple[str, ...]) -> bool:
        """True if any of ``roles`` may declare this purpose (system purposes: nobody)."""
        return not self.system and bool((self.services | self.people) & set(roles))

    def fields_of(self, table: str) -> frozenset[str]:
        """The field names of ``table`` this purpose may use (every field for a system one)."""
        return _fields_of(self.fields, table)

    def text(self, language: str = "en") -> str:
        texts = dict(self.description)
        return texts.get("zh" if language.startswith("zh") else "en", texts.get("en", ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "basis": self.basis,
            "system": self.system,
            "fields": sorted(self.fields),
            "services": sorted(self.services),
            "people": sorted(self.people),
            "objectable": self.objectable,
            "description": dict(self.description),
        }


@dataclass(frozen=True)
class Purposes:
    """The parsed ``purposes.yaml``."""

    specs: dict[str, PurposeSpec]

    def names(self, *, system: bool | None = None) -> list[str]:
        return [n for n, s in self.specs.items() if system is None or s.system == system]

    def consent_based(self) -> list[str]:
        return [n for n, s in self.specs.items() if s.consent_based and not s.system]

    def __getitem__(self, name: str) -> PurposeSpec:
        return self.specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self.specs


class _Reader:
    def __init__(self, path: Path, known_fields: frozenset[str], roles: frozenset[str]) -> None:
        self.path = path
        self.known_fields = known_fields
        self.roles = roles

    def fail(self, node: Any, message: str) -> PolicyFileError:
        line = node.start_mark.line + 1 if node is not None else 1
        return PolicyFileError(f"{self.path}, line {line}: {message}")

    def mapping(self, node: Any, what: str) -> dict[str, tuple[Any, Any]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what}: expected a mapping")
        out: dict[str, tuple[Any, Any]] = {}
        for key, value in node.value:
            if key.value in out:
                raise self.fail(key, f"{what}: {key.value!r} is listed twice")
            out[key.value] = (key, value)
        return out

    def names(self, node: Any, what: str) -> list[tuple[str, Any]]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what}: expected a list")
        items: list[tuple[str, Any]] = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode) or not isinstance(item.value, str):
                raise self.fail(item, f"{what}: expected names")
            items.append((item.value, item))
        return items

    def field(self, name: str, node: Any, where: str) -> str:
        qualified = name if "." in name else f"customers.{name}"
        if qualified not in self.known_fields:
            raise self.fail(node, f"{where}: field {name!r} is in no table of fields.yaml")
        return qualified

    def purpose(self, name: str, node: Any, system: bool) -> PurposeSpec:
        where = f"{'system' if system else 'purposes'}.{name}"
        spec = self.mapping(node, where)
        for key, (key_node, _) in spec.items():
            if key not in (_SYSTEM_KEYS if system else _PURPOSE_KEYS):
                raise self.fail(key_node, f"{where}: unknown field {key!r}")
        for key in _SYSTEM_KEYS if system else _PURPOSE_KEYS:
            if key not in spec:
                raise self.fail(node, f"{where}: {key} is required")
        basis_node = spec["basis"][1]
        basis = getattr(basis_node, "value", None)
        if basis not in BASES:
            raise self.fail(
                basis_node, f"{where}: lawful basis {basis!r} is not one of {', '.join(BASES)}"
            )
        texts = self.mapping(spec["description"][1], f"{where}.description")
        for language in _LANGUAGES:
            value = getattr(texts.get(language, (None, None))[1], "value", None)
            if not isinstance(value, str) or not value.strip():
                message = f"{where}.description.{language} is required"
                raise self.fail(spec["description"][1], message)
        description = tuple((lang, texts[lang][1].value.strip()) for lang in _LANGUAGES)
        if system:
            return PurposeSpec(name, basis, True, description=description)
        fields = frozenset(
            self.field(f, n, where) for f, n in self.names(spec["fields"][1], f"{where}.fields")
        )
        roles = {}
        for key in ("services", "people"):
            found = self.names(spec[key][1], f"{where}.{key}")
            for role, role_node in found:
                if role not in self.roles:
                    raise self.fail(role_node, f"{where}.{key}: unknown role {role!r}")
            roles[key] = frozenset(role for role, _ in found)
        objectable_node = spec["objectable"][1]
        if getattr(objectable_node, "tag", "") != "tag:yaml.org,2002:bool":
            raise self.fail(objectable_node, f"{where}.objectable must be true or false")
        return PurposeSpec(
            name,
            basis,
            False,
            fields,
            roles["services"],
            roles["people"],
            objectable_node.value.lower() == "true",
            description,
        )


def load(policy_dir: Path | None = None) -> Purposes:
    """Parse and validate ``purposes.yaml`` (uncached); PolicyFileError naming file and line."""
    directory = policy_dir or POLICY_DIR
    path = directory / FILE
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except FileNotFoundError:
        raise PolicyFileError(f"policy file {path} is missing") from None
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"policy file {path} is not valid YAML: {exc}") from None
    reader = _Reader(path, _known_fields(directory), _known_roles(directory))
    top = reader.mapping(root, "purposes.yaml")
    for key, (key_node, _) in top.items():
        if key not in ("version", "purposes", "system"):
            raise reader.fail(key_node, f"unknown key {key!r}")
    if getattr(top.get("version", (None, None))[1], "value", None) != "2":
        raise reader.fail(top.get("version", (root, root))[1], "expected version: 2")
    specs: dict[str, PurposeSpec] = {}
    for group in ("purposes", "system"):
        if group not in top:
            raise reader.fail(root, f"{group}: expected a mapping of purposes")
        for name, (key_node, node) in reader.mapping(top[group][1], group).items():
            if not _NAME.fullmatch(name):
                raise reader.fail(key_node, f"{group}: a purpose name is a lowercase identifier")
            if name in specs:
                raise reader.fail(key_node, f"purpose {name!r} is listed twice")
            specs[name] = reader.purpose(name, node, group == "system")
    return Purposes(specs)


def _known_fields(directory: Path) -> frozenset[str]:
    policy_dir = directory if (directory / "fields.yaml").exists() else POLICY_DIR
    return frozenset(f"{table}.{name}" for table, name in load_field_rules(policy_dir))


def _known_roles(directory: Path) -> frozenset[str]:
    from governance.policyfiles import load_yaml

    policy_dir = directory if (directory / "visibility.yaml").exists() else POLICY_DIR
    data = load_yaml("visibility.yaml", policy_dir)
    roles = data.get("roles") if isinstance(data, dict) else None
    return frozenset(roles) if isinstance(roles, dict) else frozenset()


@functools.cache
def current() -> Purposes:
    """The purposes of the installed ``policies/`` directory, parsed once per process."""
    return load()


@functools.cache
def _fields_of(fields: frozenset[str], table: str) -> frozenset[str]:
    # Asked several times by every governed read: computed once per (purpose's fields, table).
    prefix = f"{table}."
    return frozenset(f[len(prefix) :] for f in fields if f.startswith(prefix))
