"""Old backups are pruned by the retention rules; the newest is always kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.services.backups import files
from governance.services.backups.create import retention_days
from governance.services.retention import rules

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _backup(directory: Path, age_days: int, suffix: str) -> str:
    backup_id = (NOW - timedelta(days=age_days)).strftime("%Y%m%dT%H%M%SZ") + f"-{suffix}"
    files.backup_path(directory, backup_id).write_bytes(b"x")
    files.manifest_path(directory, backup_id).write_text("{}", encoding="utf-8")
    return backup_id


def test_the_backups_rule_of_retention_yaml_decides_how_long_backups_are_kept(call: Any) -> None:
    [rule] = rules.current().for_category("backups")
    assert retention_days(call) == (rule.period_days, rule.id)


def test_prune_removes_what_is_older_than_the_period_but_never_the_newest(tmp_path: Path) -> None:
    old = _backup(tmp_path, 40, "aaaaaa")
    recent = _backup(tmp_path, 20, "bbbbbb")
    assert files.prune(tmp_path, NOW, 35) == [old]
    assert files.backup_ids(tmp_path) == [recent]
    assert not files.backup_path(tmp_path, old).exists()
    # Even past its period, the only (newest) backup stays.
    assert files.prune(tmp_path, NOW + timedelta(days=100), 35) == []
    assert files.backup_ids(tmp_path) == [recent]
