"""The README documents every setting and every CLI command the server has."""

from __future__ import annotations

from pathlib import Path

from governance.cli import cli
from governance.config import PREFIX, SETTINGS

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [PREFIX + s.key for s in SETTINGS if f"`{PREFIX}{s.key}`" not in README]
    assert missing == []


def test_every_command_is_in_the_cli_reference() -> None:
    missing = [name for name in cli.commands if f"`governance {name}" not in README]
    assert missing == []
