"""Deadlines of data-subject requests: ``policies/request_rules.yaml``.

GDPR Art. 12(3) and UK GDPR: one calendar month, the same day of the next month or that month's
last day (Regulation 1182/71 Art. 3(2)(c)), extendable by two months; CCPA/CPRA: 45 calendar days,
extendable by 45 (Cal. Civ. Code §1798.130); PIPL Art. 50: "promptly", a deadline the DPO sets.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from governance import jurisdictions
from governance.policyfiles import POLICY_DIR, PolicyFileError, load_yaml

FILE = "request_rules.yaml"


@dataclass(frozen=True)
class Span:
    """A length of time in calendar months or days."""

    months: int = 0
    days: int = 0

    def after(self, moment: datetime) -> datetime:
        """``moment`` plus this span (months clamp to the target month's last day)."""
        if self.months:
            month0 = moment.month - 1 + self.months
            year, month = moment.year + month0 // 12, month0 % 12 + 1
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        return moment + timedelta(days=self.days)

    def describe(self) -> str:
        if self.months:
            return f"{self.months} month" + ("s" if self.months != 1 else "")
        return f"{self.days} day" + ("s" if self.days != 1 else "")


@dataclass(frozen=True)
class RequestRule:
    regime: str
    deadline: Span
    extension: Span
    law: str


@dataclass(frozen=True)
class RequestRules:
    rules: dict[str, RequestRule]
    due_soon_days: int

    def for_regime(self, regime: str) -> RequestRule:
        return self.rules[regime]


def _span(value: Any, where: str, allow_zero: bool) -> Span:
    if not isinstance(value, dict) or len(value) != 1 or set(value) - {"months", "days"}:
        raise PolicyFileError(f"{FILE}: {where} must be {{months: N}} or {{days: N}}")
    ((unit, amount),) = value.items()
    if type(amount) is not int or amount < 0 or (amount == 0 and not allow_zero):
        raise PolicyFileError(f"{FILE}: {where}.{unit} must be a whole number above zero")
    return Span(**{unit: amount})


def parse(data: Any, known: tuple[str, ...] | None = None) -> RequestRules:
    """Validate the parsed YAML; errors name the key."""
    if not isinstance(data, dict) or set(data) - {"version", "regimes", "due_soon_days"}:
        raise PolicyFileError(f"{FILE} must have only version, due_soon_days and regimes")
    if data.get("version") != 1:
        raise PolicyFileError(f"{FILE}: version must be 1")
    soon = data.get("due_soon_days", 7)
    if type(soon) is not int or soon < 0:
        raise PolicyFileError(f"{FILE}: due_soon_days must be a whole number of days")
    raw = data.get("regimes")
    if not isinstance(raw, dict) or not raw:
        raise PolicyFileError(f"{FILE}: regimes must map regime ids to their deadlines")
    regimes = known if known is not None else jurisdictions.current().ids
    rules: dict[str, RequestRule] = {}
    for regime, spec in raw.items():
        where = f"regimes.{regime}"
        if regime not in regimes:
            raise PolicyFileError(
                f"{FILE}: {where}: unknown regime (add it to jurisdictions.yaml first)"
            )
        if not isinstance(spec, dict) or set(spec) - {"deadline", "extension", "law"}:
            raise PolicyFileError(f"{FILE}: {where} must have only deadline, extension, law")
        if not isinstance(spec.get("law"), str) or not spec["law"].strip():
            raise PolicyFileError(f"{FILE}: {where}.law must be a non-empty string")
        rules[regime] = RequestRule(
            regime,
            _span(spec.get("deadline"), f"{where}.deadline", False),
            _span(spec.get("extension", {"days": 0}), f"{where}.extension", True),
            spec["law"].strip(),
        )
    return RequestRules(rules, soon)


def load(policy_dir: Path | None = None) -> RequestRules:
    return parse(load_yaml(FILE, policy_dir or POLICY_DIR))


def check(path: Path) -> None:
    """Validate a request-rules file at ``path`` (the policy-validation registry's signature)."""
    parse(load_yaml(path.name, path.parent))


@functools.lru_cache(maxsize=1)
def current() -> RequestRules:
    return load()
