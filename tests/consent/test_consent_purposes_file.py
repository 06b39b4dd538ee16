"""policies/purposes.yaml: bases, fields, roles; a bad file names its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from governance.policyfiles import POLICY_DIR, PolicyFileError
from governance.purposes import current, load

GOOD = POLICY_DIR / "purposes.yaml"


def test_the_shipped_file_declares_the_issue_purposes() -> None:
    purposes = current()
    for name in (
        "service",
        "billing",
        "support",
        "marketing_email",
        "marketing_sms",
        "marketing_phone",
        "marketing_post",
        "analytics",
        "profiling",
        "sale_or_sharing",
    ):
        assert name in purposes and not purposes[name].system  # fmt: skip
    crm = {n for n in purposes.names(system=False) if purposes[n].may_declare(("crm_app",))}
    assert crm == {"service", "billing", "support", "marketing_email", "marketing_sms", "analytics"}
    assert purposes["marketing_email"].consent_based and purposes["support"].basis == "contract"
    assert purposes["analytics"].objectable
    assert purposes["pii_scan"].system and not purposes["pii_scan"].may_declare(("dpo",))
    assert "订" in purposes["service"].text("zh")


def _bad(tmp_path: Path, old: str, new: str) -> Path:
    text = GOOD.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "purposes.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    for name in ("fields.yaml", "visibility.yaml"):
        shutil.copy(POLICY_DIR / name, tmp_path / name)
    return tmp_path


def _line(old: str) -> int:
    return GOOD.read_text(encoding="utf-8").split(old, 1)[0].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    basis: contract\n", "    basis: contract\n    colour: x\n", "unknown field 'colour'"),
        ("    basis: contract\n", "    basis: contractual\n", "lawful basis 'contractual'"),
        ("fields: [external_ref,", "fields: [shoe_size,", "field 'shoe_size' is in no table"),
        ("    services: [crm_app]\n", "    services: [robot]\n", "unknown role 'robot'"),
        ("    objectable: false\n", "    objectable: maybe\n", "true or false"),
    ],
)
def test_a_bad_entry_names_its_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    directory = _bad(tmp_path, old, new)
    line = _line(old) + (1 if "colour" in new else 0)
    with pytest.raises(PolicyFileError, match=rf"line {line}: .*{message}"):
        load(directory)


def test_a_missing_description_language_is_refused(tmp_path: Path) -> None:
    directory = _bad(tmp_path, "      zh: 提供客户订购的产品和服务。\n", "")
    with pytest.raises(PolicyFileError, match="description.zh is required"):
        load(directory)


def test_the_server_refuses_to_start_on_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance import bootstrap, purposes
    from governance.config import ConfigError

    directory = _bad(tmp_path, "    basis: contract\n", "    basis: whim\n")
    monkeypatch.setattr(purposes, "POLICY_DIR", directory)
    purposes.current.cache_clear()
    try:
        with pytest.raises(ConfigError, match="line .*whim"):
            bootstrap.check_purposes()
    finally:
        purposes.current.cache_clear()
