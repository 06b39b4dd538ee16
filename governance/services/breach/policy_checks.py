"""The validator of ``policies/breach_rules.yaml`` (``governance/policy_validation.py``)."""

from __future__ import annotations

from pathlib import Path

from governance.policy_validation import validator
from governance.services.breach import rules


@validator(rules.FILE)
def check_breach_rules(policy_dir: Path) -> None:
    """Parse and validate the rules; PolicyFileError names the file and the line."""
    rules.load(policy_dir)
