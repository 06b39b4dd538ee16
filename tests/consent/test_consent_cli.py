"""``governance consent ...``: the CLI front end of the same services."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import make_customer

from governance.cli import cli
from governance.models import Customer

HERE = Path(__file__).resolve().parents[2]


def test_record_state_and_receipt_from_the_cli(
    app: Any, runner: Any, call: Any, tmp_path: Path
) -> None:
    make_customer(call, marketing=None)
    cid = call.session.query(Customer.id).scalar()
    call.session.rollback()
    assert "marketing_email" in runner.invoke(cli, ["consent", "purposes"]).output
    assert runner.invoke(cli, ["consent", "notices"]).output.startswith("1 ")
    grant = ["consent", "record", cid, "--purpose", "marketing_post", "--action", "grant"]
    res = runner.invoke(cli, [*grant, "--notice", "1", "--evidence-ref", "scan-42"])
    assert res.exit_code == 0, res.output
    event_id = res.output.split("event ")[1].split()[0]
    state = runner.invoke(cli, ["consent", "state", cid]).output
    assert "marketing_post     granted" in state
    bad = runner.invoke(cli, [*grant, "--notice", "9"])
    assert bad.exit_code != 0 and bad.exception.errors[0]["field"] == "notice_version"
    out = tmp_path / "receipt.json"
    res = runner.invoke(cli, ["consent", "receipt", event_id, "-o", str(out)])
    assert res.exit_code == 0, res.output
    receipt = json.loads(out.read_text())
    (tmp_path / "key.pem").write_text(receipt["public_key"])
    command = [
        sys.executable,
        "-m",
        "audit",
        "receipt",
        str(out),
        "--key",
        str(tmp_path / "key.pem"),
    ]
    ok = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    assert ok.returncode == 0, ok.stderr
    totals = json.loads(runner.invoke(cli, ["consent", "totals", "--json"]).output)
    assert totals["current"]["marketing_post"] == {"granted": 1}
