"""Validators of ``retention.yaml`` and ``request_rules.yaml`` (``governance.policy_validation``),
and the schedule of the retention sweep."""

from __future__ import annotations

from pathlib import Path

from governance.policy_validation import validator
from governance.services.requests import rules as request_rules
from governance.services.retention import rules as retention_rules


@validator("retention.yaml")
def _retention(policy_dir: Path) -> None:
    retention_rules.check(policy_dir / retention_rules.FILE)


@validator("request_rules.yaml")
def _request_rules(policy_dir: Path) -> None:
    request_rules.check(policy_dir / request_rules.FILE)
