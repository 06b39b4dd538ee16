"""Legal regimes and which of them apply to a customer (``policies/jurisdictions.yaml``).

One list of regime ids (``GDPR``, ``UK_GDPR``, ``PIPL``, ``CCPA``, ``NY_SHIELD``, and whatever the
DPO adds) shared by data-subject requests and breach response. A regime covers whole countries or
single subdivisions (US state laws follow the state). Where a customer's country has regimes by
subdivision and the subdivision is unknown, every such regime applies and the decision says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry

from governance.policyfiles import PolicyFileError, load_yaml

FILE = "jurisdictions.yaml"
_REGIME_ID = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
_REGIME_KEYS = frozenset({"name", "law", "countries", "subdivisions"})
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
_SUBDIVISIONS = frozenset(s.code for s in pycountry.subdivisions)


@dataclass(frozen=True)
class Regime:
    """One legal regime and where it applies."""

    id: str
    name: str
    law: str
    countries: frozenset[str]
    subdivisions: frozenset[str]


@dataclass(frozen=True)
class Applicable:
    """The regimes that apply to one customer, and why."""

    regimes: tuple[str, ...]
    # True when the subdivision was unknown and every regime of the country by subdivision was
    # assumed to apply; ``note`` says so in words.
    assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Jurisdictions:
    """The parsed ``jurisdictions.yaml``."""

    regimes: dict[str, Regime]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.regimes)

    def applicable(self, country: str | None, subdivision: str | None = None) -> Applicable:
        """The regimes for a customer in ``country`` / ``subdivision`` (ISO codes or None)."""
        if not country and subdivision:
            country = subdivision.split("-", 1)[0]
        if not country:
            return Applicable((), note="the customer's country is unknown")
        found: list[str] = []
        by_subdivision: list[str] = []
        for regime in self.regimes.values():
            if country in regime.countries:
                found.append(regime.id)
            elif any(code.startswith(f"{country}-") for code in regime.subdivisions):
                by_subdivision.append(regime.id)
        if not by_subdivision:
            return Applicable(tuple(found))
        if subdivision:
            found += [r for r in by_subdivision if subdivision in self.regimes[r].subdivisions]
            return Applicable(tuple(found))
        note = (
            f"the customer's subdivision in {country} is unknown, so every regime of {country} "
            f"that follows the subdivision applies: {', '.join(by_subdivision)}"
        )
        return Applicable(tuple(found + by_subdivision), assumed=True, note=note)

    def require(self, regime_id: str, where: str = "") -> str:
        """``regime_id`` if it is known; a PolicyFileError naming ``where`` otherwise."""
        if regime_id not in self.regimes:
            known = ", ".join(self.regimes)
            raise PolicyFileError(f"{where}unknown regime {regime_id!r} (known: {known})")
        return regime_id


def parse(data: Any) -> Jurisdictions:
    """Validate the parsed YAML of ``jurisdictions.yaml``; errors name the key."""
    if not isinstance(data, dict) or set(data) - {"version", "regimes"}:
        raise PolicyFileError(f"{FILE} must have only 'version' and 'regimes'")
    if data.get("version") != 1:
        raise PolicyFileError(f"{FILE}: version must be 1")
    raw = data.get("regimes")
    if not isinstance(raw, dict) or not raw:
        raise PolicyFileError(f"{FILE}: regimes must map regime ids to their definition")
    regimes: dict[str, Regime] = {}
    for regime_id, spec in raw.items():
        where = f"{FILE}: regimes.{regime_id}"
        if not isinstance(regime_id, str) or not _REGIME_ID.match(regime_id):
            raise PolicyFileError(f"{where}: a regime id is upper case letters, digits and _")
        if not isinstance(spec, dict):
            raise PolicyFileError(f"{where} must be a mapping")
        unknown = set(spec) - _REGIME_KEYS
        if unknown:
            raise PolicyFileError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        for key in ("name", "law"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise PolicyFileError(f"{where}.{key} must be a non-empty string")
        countries = _codes(spec.get("countries"), f"{where}.countries", _country)
        subdivisions = _codes(spec.get("subdivisions"), f"{where}.subdivisions", _subdivision)
        if not countries and not subdivisions:
            raise PolicyFileError(f"{where} must list countries or subdivisions")
        regimes[regime_id] = Regime(
            regime_id, spec["name"].strip(), spec["law"].strip(), countries, subdivisions
        )
    return Jurisdictions(regimes)


def _codes(value: Any, where: str, check: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise PolicyFileError(f"{where} must be a list of codes")
    for code in value:
        if not isinstance(code, str):
            hint = " (quote it: YAML reads a bare NO as false)" if isinstance(code, bool) else ""
            raise PolicyFileError(f"{where}: {code!r} is not a code{hint}")
    for code in value:
        check(code, where)
    if len(set(value)) != len(value):
        raise PolicyFileError(f"{where} lists a code twice")
    return frozenset(value)


def _country(code: str, where: str) -> None:
    if code not in _COUNTRIES:
        raise PolicyFileError(f"{where}: {code!r} is not an ISO 3166-1 alpha-2 country code")


def _subdivision(code: str, where: str) -> None:
    if code not in _SUBDIVISIONS:
        raise PolicyFileError(f"{where}: {code!r} is not an ISO 3166-2 subdivision code")


def load(policy_dir: Path | None = None) -> Jurisdictions:
    """Parse and validate ``policies/jurisdictions.yaml`` (uncached)."""
    return parse(load_yaml(FILE, policy_dir))


@lru_cache(maxsize=1)
def current() -> Jurisdictions:
    """The jurisdictions of the installed ``policies/`` directory, parsed once per process."""
    return load()
