"""Settings: defaults, parsing, errors naming the variable, warnings for unknown variables."""

from __future__ import annotations

import logging

import pytest

from governance.config import ConfigError, load_config, settings_table


def test_defaults_live_under_the_instance_folder(tmp_path: object) -> None:
    config = load_config({"GOVERNANCE_INSTANCE_PATH": "/srv/gov"})
    assert config["DATABASE_URL"] == "sqlite:////srv/gov/governance.db"
    assert config["MASTER_KEY_FILE"] == "/srv/gov/master_key.json"
    assert config["DEFAULT_REGION"] == "CN" and config["PAGE_SIZE"] == 50


def test_postgres_urls_use_psycopg3() -> None:
    config = load_config({"GOVERNANCE_DATABASE_URL": "postgres://u@h/db"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "GOVERNANCE_PAGE_SIZE",
            "lots",
            "GOVERNANCE_PAGE_SIZE is malformed: expected a whole number",
        ),
        (
            "GOVERNANCE_PAGE_SIZE",
            "0",
            "GOVERNANCE_PAGE_SIZE is malformed: expected a number greater than 0",
        ),
        (
            "GOVERNANCE_SECURE_COOKIES",
            "maybe",
            "GOVERNANCE_SECURE_COOKIES is malformed: expected true or false",
        ),
        ("GOVERNANCE_DATABASE_URL", "mysql://x", "GOVERNANCE_DATABASE_URL is malformed"),
        ("GOVERNANCE_DEFAULT_REGION", "China", "GOVERNANCE_DEFAULT_REGION is malformed"),
    ],
)
def test_malformed_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({name: value})


def test_unknown_variables_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        load_config({"GOVERNANCE_DATABSE_URL": "sqlite://"})
    assert "unknown setting GOVERNANCE_DATABSE_URL ignored" in caplog.text


def test_settings_table_lists_every_variable() -> None:
    table = settings_table()
    assert "`GOVERNANCE_DATABASE_URL`" in table and "`GOVERNANCE_MASTER_KEY`" in table
