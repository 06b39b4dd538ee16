"""Validators of the policy files the platform itself reads (domains register their own)."""

from __future__ import annotations

from pathlib import Path

from governance import jurisdictions
from governance.policy_validation import validator
from governance.policyfiles import load_field_rules, load_purposes
from governance.security.authz import Authorizer, load_policy_csv, validate_policy
from governance.security.masking import load_visibility
from governance.services.pii.detection.policy import load_policy


@validator("fields.yaml")
def _fields(policy_dir: Path) -> None:
    load_field_rules(policy_dir)


@validator("purposes.yaml")
def _purposes(policy_dir: Path) -> None:
    load_purposes(policy_dir)


@validator("jurisdictions.yaml")
def _jurisdictions(policy_dir: Path) -> None:
    jurisdictions.load(policy_dir)


@validator("pii.yaml")
def _pii(policy_dir: Path) -> None:
    load_policy(policy_dir / "pii.yaml")


@validator("visibility.yaml")
def _visibility(policy_dir: Path) -> None:
    load_visibility(policy_dir / "visibility.yaml")


@validator("policy.csv")
def _policy(policy_dir: Path) -> None:
    lines = load_policy_csv(policy_dir / "policy.csv")
    known = load_visibility(policy_dir / "visibility.yaml").known_roles
    validate_policy(lines, known_roles=known)


@validator("rbac_model.conf")
def _model(policy_dir: Path) -> None:
    Authorizer.from_files(policy_dir / "rbac_model.conf", policy_dir / "policy.csv")
