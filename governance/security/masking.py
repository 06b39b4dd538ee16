"""Field-level visibility of customer data per role, and the masking functions it uses.

``policies/visibility.yaml`` declares every role (person or service, whether people holding it
need MFA) and, per role and per field, one of ``clear``, ``masked`` or ``hidden``. Deny by
default: an undeclared role sees nothing, and a field a role does not list is hidden. With
several roles the most permissive level wins per field. ``reveal=True`` turns a role's
``reveal`` fields from masked to clear; the caller records the reason in the audit log.

Masks keep just enough to recognise a record on the phone or on screen: phone numbers (E.164,
ITU-T) keep the country code, the first 3 and last 4 national digits (``+86138****5678``);
emails the first character and the domain (``a***@example.com``); identity numbers (such as
GB 11643 resident ids) their last 4 characters; names the first character of each word followed
by a fixed number of stars (``A*** B***``, ``张**``: fixed so a name's length does not leak);
dates of birth the year; addresses the city and region; free text becomes ``[masked]``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import phonenumbers
import yaml

from governance.errors import Forbidden, InternalError

CLEAR, MASKED, HIDDEN = "clear", "masked", "hidden"
LEVELS = (HIDDEN, MASKED, CLEAR)  # least to most permissive
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
ROLE_KINDS = ("person", "service")
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "policies" / "visibility.yaml"
_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
TEXT_MASK = "[masked]"


class VisibilityPolicyError(InternalError, ValueError):
    """``visibility.yaml`` is malformed; the message names the offending entry."""


class RevealNotAllowed(Forbidden):
    """Clear view was requested by roles that have no ``reveal`` right."""

    slug = "reveal-not-allowed"
    title = "Clear view not allowed for this role"


@dataclass(frozen=True)
class RoleSpec:
    """One declared role: its kind, MFA requirement and field levels."""

    name: str
    kind: str
    mfa_required: bool
    fields: Mapping[str, str]
    reveal: frozenset[str]

    def level(self, field: str, reveal: bool) -> str:
        """This role's level for ``field`` (hidden when unlisted)."""
        level = self.fields.get(field, HIDDEN)
        if reveal and level == MASKED and field in self.reveal:
            return CLEAR
        return level


@dataclass(frozen=True)
class VisibilityPolicy:
    """The parsed ``visibility.yaml``."""

    roles: Mapping[str, RoleSpec]
    always_clear: frozenset[str]
    masks: Mapping[str, str]
    _levels: dict[tuple[Any, ...], Mapping[str, str]] = dataclass_field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def levels(
        self, roles: Iterable[str], fields: Iterable[str], *, reveal: bool = False
    ) -> Mapping[str, str]:
        """``{field: level}`` for these roles, computed once per combination (the policy is
        immutable; a reloaded policy is a new object with an empty cache). Read-only."""
        key = (tuple(roles), tuple(fields), reveal)
        found = self._levels.get(key)
        if found is None:
            found = MappingProxyType({f: self.level(key[0], f, reveal=reveal) for f in key[1]})
            if len(self._levels) < 4096:  # bounded: roles and field lists are few
                self._levels[key] = found
        return found

    @property
    def known_roles(self) -> frozenset[str]:
        """Every declared role name."""
        return frozenset(self.roles)

    @property
    def people_mfa_roles(self) -> frozenset[str]:
        """Roles whose human holders must complete TOTP."""
        return frozenset(r.name for r in self.roles.values() if r.mfa_required)

    def requires_mfa(self, roles: Iterable[str]) -> bool:
        """True if any role needs MFA; an undeclared role does too (fail safe)."""
        return any(r not in self.roles or self.roles[r].mfa_required for r in roles)

    def can_reveal(self, roles: Iterable[str]) -> bool:
        """True if any of ``roles`` may switch masked fields to clear."""
        return any(r in self.roles and self.roles[r].reveal for r in roles)

    def level(self, roles: Iterable[str], field: str, *, reveal: bool = False) -> str:
        """The most permissive level any declared role in ``roles`` has for ``field``."""
        specs = [self.roles[r] for r in roles if r in self.roles]
        if not specs:
            return HIDDEN
        if field in self.always_clear:
            return CLEAR
        return max((s.level(field, reveal) for s in specs), key=_RANK.__getitem__)

    def apply(
        self, roles: Iterable[str], record: Mapping[str, Any], *, reveal: bool = False
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Masked copy of ``record`` (hidden fields dropped) and the level used per field."""
        roles = list(roles)
        if reveal and not self.can_reveal(roles):
            raise RevealNotAllowed()
        shown: dict[str, Any] = {}
        levels: dict[str, str] = {}
        for field, value in record.items():
            level = self.level(roles, field, reveal=reveal)
            levels[field] = level
            if level == CLEAR:
                shown[field] = value
            elif level == MASKED:
                shown[field] = mask_value(self.masks.get(field, "text"), value)
        return shown, levels


def apply_visibility(
    role_or_roles: str | Iterable[str],
    record: Mapping[str, Any],
    *,
    reveal: bool = False,
    policy: VisibilityPolicy | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply ``policy`` (default: ``policies/visibility.yaml``) to one record for the roles.

    Returns the record to show (hidden fields removed, masked fields masked) and a map
    field -> ``clear|masked|hidden`` for the audit entry. Raises ``RevealNotAllowed`` when
    ``reveal`` is asked by roles without a reveal right.
    """
    roles = [role_or_roles] if isinstance(role_or_roles, str) else list(role_or_roles)
    return (policy or default_visibility()).apply(roles, record, reveal=reveal)


def people_mfa_roles(policy: VisibilityPolicy | None = None) -> frozenset[str]:
    """Roles whose human holders must use MFA, from the visibility policy."""
    return (policy or default_visibility()).people_mfa_roles


def requires_mfa(roles: Iterable[str], policy: VisibilityPolicy | None = None) -> bool:
    """True if a person holding ``roles`` must complete TOTP."""
    return (policy or default_visibility()).requires_mfa(roles)


@functools.cache
def default_visibility() -> VisibilityPolicy:
    """The repository's ``policies/visibility.yaml``, loaded once."""
    return load_visibility(DEFAULT_PATH)


def load_visibility(path: str | Path) -> VisibilityPolicy:
    """Parse and validate a visibility file; raises ``VisibilityPolicyError``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("version") != 1:
        raise VisibilityPolicyError("visibility policy: expected a mapping with version: 1")
    masks = data.get("masks") or {}
    for field, kind in masks.items():
        if kind not in MASKERS:
            raise VisibilityPolicyError(f"masks.{field}: unknown mask kind {kind!r}")
    roles = data.get("roles") or {}
    if not isinstance(roles, dict) or not roles:
        raise VisibilityPolicyError("roles: expected a non-empty mapping")
    return VisibilityPolicy(
        roles={name: _parse_role(name, spec, masks) for name, spec in roles.items()},
        always_clear=frozenset(data.get("always_clear") or ()),
        masks=dict(masks),
    )


def _parse_role(name: str, spec: Any, masks: Mapping[str, str]) -> RoleSpec:
    where = f"roles.{name}"
    if not isinstance(name, str) or not _ROLE_NAME.fullmatch(name):
        raise VisibilityPolicyError(f"{where}: role names are lowercase identifiers")
    if not isinstance(spec, dict) or spec.get("kind") not in ROLE_KINDS:
        raise VisibilityPolicyError(f"{where}.kind: expected one of {', '.join(ROLE_KINDS)}")
    if not isinstance(spec.get("mfa_required"), bool):
        raise VisibilityPolicyError(f"{where}.mfa_required: expected true or false")
    fields = spec.get("fields") or {}
    for field, level in fields.items():
        if level not in LEVELS:
            raise VisibilityPolicyError(f"{where}.fields.{field}: expected {'|'.join(LEVELS)}")
        if field not in masks:
            raise VisibilityPolicyError(f"{where}.fields.{field}: field has no entry in masks")
    reveal = frozenset(spec.get("reveal") or ())
    for field in reveal:
        if fields.get(field) != MASKED:
            raise VisibilityPolicyError(f"{where}.reveal.{field}: only masked fields can reveal")
    return RoleSpec(name, spec["kind"], spec["mfa_required"], dict(fields), reveal)


# --- masking functions -----------------------------------------------------------------------


def mask_value(kind: str, value: Any) -> Any:
    """Mask ``value`` with the masker named ``kind``; None stays None."""
    if value is None:
        return None
    return MASKERS[kind](value)


def mask_text(value: Any) -> str:
    """Free text and anything else: ``[masked]``."""
    return TEXT_MASK


def mask_name(value: Any) -> str:
    """``Alice Baker`` -> ``A*** B***``; ``张三`` -> ``张**`` (CJK words get two stars)."""
    words = str(value).split()
    return " ".join(w[0] + ("**" if _is_cjk(w[0]) else "***") for w in words)


def mask_email(value: Any) -> str:
    """``alice@example.com`` -> ``a***@example.com``."""
    local, at, domain = str(value).rpartition("@")
    if not at or not local or not domain:
        return TEXT_MASK
    return f"{local[0]}***@{domain}"


def mask_phone(value: Any) -> str:
    """``13812345678`` -> ``138****5678``; ``+8613812345678`` -> ``+86138****5678``."""
    text = str(value).strip()
    digits = re.sub(r"\D", "", text)
    prefix = ""
    if text.startswith("+"):
        code = _country_code(digits)
        prefix, digits = "+" + code, digits[len(code) :]
    if len(digits) >= 8:
        return f"{prefix}{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 5:
        return f"{prefix}****{digits[-2:]}"
    return f"{prefix}****"


def mask_id_number(value: Any) -> str:
    """Keep the last 4 characters: ``110101199003071234`` -> ``**************1234``."""
    text = str(value).strip()
    if len(text) < 8:  # too short for the last 4 to be a small part
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def mask_date(value: Any) -> str:
    """Year only: ``1990-03-07`` -> ``1990-**-**``; unparseable -> ``****-**-**``."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    match = re.match(r"(\d{4})-", text)
    return f"{match.group(1) if match else '****'}-**-**"


def mask_address(value: Any) -> Any:
    """Keep ``city`` and ``region`` of an address mapping; mask every other part."""
    if not isinstance(value, Mapping):
        return TEXT_MASK
    return {
        key: part if key in ("city", "region") or part in (None, "") else TEXT_MASK
        for key, part in value.items()
    }


MASKERS = {
    "text": mask_text,
    "name": mask_name,
    "email": mask_email,
    "phone": mask_phone,
    "id_number": mask_id_number,
    "date": mask_date,
    "address": mask_address,
}


_CJK_RANGES = (("\u3400", "\u9fff"), ("\uf900", "\ufaff"), ("\uac00", "\ud7af"))


def _is_cjk(char: str) -> bool:
    return any(low <= char <= high for low, high in _CJK_RANGES)


def _country_code(digits: str) -> str:
    """The ITU country calling code that starts ``digits`` (codes are prefix-free)."""
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    return ""
