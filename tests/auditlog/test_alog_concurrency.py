"""Concurrent appenders never fork the log; a killed appender loses nothing it committed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from governance.models import AuditEntry
from governance.services.auditlog import views as audit_views

APPENDER = """
import sys
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
from governance.context import Actor

url, instance, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": instance})
with app.app_context():
    actor = Actor(id=f"worker-{worker}", type="system", roles=("system",))
    call = deps(app).call(db.session, actor)
    for i in range(count):
        entry = call.audit.record(db.session, call.actor, "test.concurrent", now=call.now(),
                                  details={"worker": worker, "i": i})
        db.session.commit()
        print(entry.seq, flush=True)
"""


def spawn(app: Any, worker: int, count: int, url: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", APPENDER, url or app.config["DATABASE_URL"], app.instance_path,
         str(worker), str(count)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip


def without_fsync_wait(url: str) -> str:
    """PostgreSQL: commit without waiting for the WAL flush (``synchronous_commit=off``).

    This test is about serialisation (row lock, gapless seq, one tree), not disk durability; the
    crash test below keeps the default. Without it 16,000 serialised fsyncs dominate the run.
    """
    if not url.startswith("postgresql"):
        return url
    return url + ("&" if "?" in url else "?") + "options=-c%20synchronous_commit%3Doff"


@pytest.mark.slow
def test_eight_processes_append_a_gapless_verifiable_log(app: Any, call: Any) -> None:
    before = call.session.scalar(select(func.count()).select_from(AuditEntry))
    call.session.rollback()  # hold no transaction (and so no write lock) while they append
    url = without_fsync_wait(app.config["DATABASE_URL"])
    procs = [spawn(app, w, 2000, url) for w in range(8)]
    printed: dict[int, int] = {}
    for w, p in enumerate(procs):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
        seqs = [int(line) for line in out.split()]
        assert len(seqs) == 2000 and seqs == sorted(seqs)
        printed.update(dict.fromkeys(seqs, w))
    call.session.rollback()
    seqs = list(call.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert len(seqs) == before + 16_000
    assert seqs == list(range(1, len(seqs) + 1))
    assert sorted(printed) == seqs[before:]  # every append got its own seq, none was lost
    rows = call.session.execute(
        select(AuditEntry.seq, AuditEntry.leaf).where(AuditEntry.seq > before)
    )
    assert all(json.loads(leaf)["details"]["worker"] == printed[seq] for seq, leaf in rows)
    report = audit_views.verify_live(call)
    assert report.tree_size == before + 16_000


@pytest.mark.slow
def test_a_killed_appender_leaves_a_verifiable_log_with_every_committed_entry(
    app: Any, call: Any
) -> None:
    proc = spawn(app, 1, 100_000)
    committed: list[int] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while len(committed) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert len(committed) >= 300, err[-2000:]
    call.session.rollback()
    present = set(call.session.scalars(select(AuditEntry.seq)))
    assert set(committed) <= present
    report = audit_views.verify_live(call)
    assert report.tree_size == max(present)
    # the log keeps working after the crash
    call.audit.record(call.session, call.actor, "test.after_crash", now=call.now())
    call.session.commit()
    assert audit_views.verify_live(call).tree_size == max(present) + 2


def test_checkpoints_are_issued_every_n_entries(call: Any, tmp_path: Path) -> None:
    call.audit.checkpoint_every = 5
    for _ in range(12):
        call.audit.record(call.session, call.actor, "test.event", now=call.now())
        call.session.commit()
    sizes = [c["tree_size"] for c in audit_views.list_checkpoints(call.session)]
    assert sizes == [5, 10]


def test_stale_unsigned_entries_get_a_checkpoint(call: Any) -> None:
    from datetime import timedelta

    call.audit.checkpoint_seconds = 60
    call.audit.record(call.session, call.actor, "test.event", now=call.now())
    assert call.audit.checkpoint_if_stale(call.session, call.now()) is not None  # never signed
    call.session.commit()
    assert call.audit.checkpoint_if_stale(call.session, call.now()) is None  # nothing new
    call.audit.record(call.session, call.actor, "test.event", now=call.now())
    call.session.commit()
    assert call.audit.checkpoint_if_stale(call.session, call.now()) is None  # signed recently
    later = call.now() + timedelta(seconds=61)
    cp = call.audit.checkpoint_if_stale(call.session, later)
    assert cp is not None and cp.tree_size == audit_views.tree_size(call.session)
