"""`governance policy validate`: every file under policies/ has a validator and passes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli import cli
from governance.policy_validation import VALIDATORS, check_all, validate_all
from governance.policyfiles import POLICY_DIR


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


def _validate(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["policy", "validate", str(directory)])
    return result.exit_code, result.output


def test_the_repository_policies_are_valid_and_each_file_has_a_validator() -> None:
    assert validate_all() == []
    files = {p.name for p in POLICY_DIR.iterdir() if p.is_file()} - {"README.md"}
    assert files == set(VALIDATORS)


def test_a_bad_line_is_named_and_exits_1(policies: Path) -> None:
    path = policies / "purposes.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")
    code, output = _validate(policies)
    assert code == 1
    assert "policies/purposes.yaml" in output and "line" in output and "surprise" in output


def test_a_file_nobody_reads_is_a_problem(policies: Path) -> None:
    (policies / "retention-draft.yaml").write_text("version: 1\n", encoding="utf-8")
    code, output = _validate(policies)
    assert code == 1 and "retention-draft.yaml: no validator knows this file" in output


def test_a_missing_file_is_a_problem(policies: Path) -> None:
    (policies / "visibility.yaml").unlink()
    problems = validate_all(policies)
    assert any(p.file == "visibility.yaml" and "missing" in p.message for p in problems)


def test_a_policy_rule_for_an_unknown_role_is_named(policies: Path) -> None:
    with (policies / "policy.csv").open("a", encoding="utf-8") as f:
        f.write("p, nobody_role, /api/v1/customers, GET\n")
    code, output = _validate(policies)
    assert code == 1 and "nobody_role" in output


def test_start_up_refuses_a_bad_directory(policies: Path) -> None:
    (policies / "jurisdictions.yaml").write_text("version: 2\nregimes: {}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="jurisdictions.yaml"):
        check_all(policies)


def test_the_good_directory_passes_on_the_command_line(policies: Path) -> None:
    code, output = _validate(policies)
    assert code == 0 and f"{len(VALIDATORS)} policy files valid" in output
