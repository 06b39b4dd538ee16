"""``governance incidents``: list, tasks, analyse (foreground job), register."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from brc_helpers import iso, pdf_text

from governance.cli import cli


def test_incidents_commands(app: Any, runner: Any, call: Any, tmp_path: Path) -> None:
    from governance.services.breach import incidents

    now = datetime.now(UTC)
    made = incidents.create(
        call,
        {
            "title": "Misdirected email",
            "aware_at": iso(now),
            "detected_at": iso(now - timedelta(hours=1)),
        },
    )
    call.session.commit()
    listed = runner.invoke(cli, ["incidents", "list"], catch_exceptions=False)
    assert made.id in listed.output and "Misdirected email" in listed.output
    analysed = runner.invoke(
        cli, ["incidents", "analyse", made.id, "--country", "IS"], catch_exceptions=False
    )
    assert analysed.exit_code == 0
    assert "no customer matched the scope" in analysed.output
    tasks = runner.invoke(cli, ["incidents", "tasks", made.id], catch_exceptions=False)
    assert tasks.exit_code == 0 and tasks.output == ""
    out = tmp_path / "register.pdf"
    written = runner.invoke(cli, ["incidents", "register", "-o", str(out)], catch_exceptions=False)
    assert written.exit_code == 0 and "Misdirected" in pdf_text(out.read_bytes())
