"""Queued appends: entries wait in ``audit_queue`` until one integrator sequences them.

Pending entries are trigger-protected and verified, proofs of them answer 409 with Retry-After,
eight queued writers and a repeatedly SIGKILLed integrator leave one gapless, verifiable log.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from conftest import login_as
from sqlalchemy import func, select, text

from audit.verify import VerifyError
from governance.extensions import db
from governance.models import AuditEntry, AuditQueued
from governance.services.auditlog import views as audit_views
from governance.services.auditlog.integrator import Integrator, integrate_pending
from tests.auditlog.alog_helpers import dialect
from tests.auditlog.test_alog_concurrency import without_fsync_wait

QUEUED_APPENDER = """
import sys, time
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
from governance.context import Actor

url, instance, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": instance})
with app.app_context():
    deps(app).audit.inline = False  # queued: no integration in this process
    actor = Actor(id=f"worker-{worker}", type="system", roles=("system",))
    call = deps(app).call(db.session, actor)
    for i in range(count):
        entry = call.audit.record(db.session, call.actor, "test.queued", now=call.now(),
                                  details={"worker": worker, "i": i})
        db.session.commit()
        print(entry.leaf_hash.hex(), flush=True)
        time.sleep(0.002)  # a server's writers pause between requests; tight loops starve SQLite
"""

INTEGRATOR = """
import sys, time
from governance import create_app
from governance.bootstrap import deps
from governance.extensions import db
from governance.services.auditlog.integrator import Integrator

app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1], "INSTANCE_PATH": sys.argv[2]})
with app.app_context():
    audit = deps(app).audit
    audit.batch, audit.checkpoint_every = 7, 25  # small batches: many kill points
    integrator = Integrator(db.engine, audit)
    print("ready", flush=True)
    while True:
        try:
            integrator.run_once()
        except Exception as exc:  # as the integrator thread: a busy database is retried
            print(type(exc).__name__, file=sys.stderr, flush=True)
"""


PER_WRITER = 150


def spawn(app: Any, script: str, *args: str, url: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, url or app.config["DATABASE_URL"], app.instance_path,
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip


def queued(call: Any, count: int) -> list[bytes]:
    call.audit.inline = False
    hashes = []
    for i in range(count):
        hashes.append(
            call.audit.record(
                call.session, call.actor, "test.queued", now=call.now(), details={"i": i}
            ).leaf_hash  # fmt: skip
        )
        call.session.commit()
    return hashes


def test_queued_entries_are_pending_until_integrated(app: Any, call: Any, client: Any) -> None:
    size = audit_views.tree_size(call.session)
    hashes = queued(call, 5)
    assert audit_views.tree_size(call.session) == size  # nothing integrated yet
    assert call.session.scalar(select(func.count()).select_from(AuditQueued)) == 5

    report = audit_views.verify_live(call)  # records its own entry: pending too
    call.session.commit()
    assert report.tree_size == size and report.pending_entries == 5
    assert audit_views.report_json(report)["pending_entries"] == 5

    assert integrate_pending(db.engine, call.audit) == 6
    call.session.rollback()
    rows = call.session.execute(
        select(AuditEntry.seq, AuditEntry.leaf_hash).where(AuditEntry.seq > size)
        .order_by(AuditEntry.seq)
    ).all()  # fmt: skip
    assert [s for s, _ in rows] == list(range(size + 1, size + 7))
    assert [bytes(h) for _, h in rows][:5] == hashes  # queue order is sequence order
    assert call.session.scalar(select(func.count()).select_from(AuditQueued)) == 0
    assert audit_views.verify_live(call).pending_entries == 0  # its own record comes after


def test_proof_of_a_pending_entry_is_409_with_retry_after(app: Any, call: Any, client: Any) -> None:
    login_as(app, client, "auditor")
    integrate_pending(db.engine, call.audit)
    call.session.rollback()
    size = audit_views.tree_size(call.session)
    queued(call, 3)
    from governance.bootstrap import deps

    deps(app).audit.inline = False  # the server process has an integrator elsewhere
    answer = client.get(f"/api/v1/audit/proof/inclusion?seq={size + 2}")
    assert answer.status_code == 409, answer.json
    assert answer.headers["Retry-After"] == "1"
    assert answer.mimetype == "application/problem+json"
    far = client.get(f"/api/v1/audit/proof/inclusion?seq={size + 500}")
    assert far.status_code == 422  # beyond anything committed: not a matter of waiting
    integrate_pending(db.engine, call.audit)
    done = client.get(f"/api/v1/audit/proof/inclusion?seq={size + 2}")
    assert done.status_code == 200


def test_pending_entries_are_append_only_and_tampering_is_caught(app: Any, call: Any) -> None:
    queued(call, 3)
    for sql in ("UPDATE audit_queue SET action = 'x.y'", "DELETE FROM audit_queue"):
        with pytest.raises(Exception, match="append-only"):
            call.session.execute(text(sql))
        call.session.rollback()
    # Someone with database access lifts the triggers and rewrites a pending leaf.
    if dialect(call.session) == "postgresql":
        call.session.execute(text("ALTER TABLE audit_queue DISABLE TRIGGER ALL"))
    else:
        call.session.execute(text("DROP TRIGGER audit_queue_no_update"))
    first = call.session.scalar(select(func.min(AuditQueued.id)))
    call.session.execute(
        text("UPDATE audit_queue SET leaf = replace(leaf, 'test.queued', 'test.quiet') "
             "WHERE id = :i"), {"i": first},
    )  # fmt: skip
    call.session.commit()
    with pytest.raises(VerifyError, match=f"pending entry {first}: stored leaf_hash"):
        audit_views.verify_live(call)


def test_two_integrators_never_fork(app: Any, call: Any) -> None:
    hashes = queued(call, 30)
    call.audit.batch = 4
    one, two = Integrator(db.engine, call.audit), Integrator(db.engine, call.audit)
    one.holds_lease = two.holds_lease = lambda: True  # type: ignore[method-assign]
    while one.run_once() + two.run_once():
        pass
    call.session.rollback()
    stored = [bytes(h) for h in call.session.scalars(
        select(AuditEntry.leaf_hash).order_by(AuditEntry.seq))]  # fmt: skip
    assert stored[-30:] == hashes
    audit_views.verify_live(call)


@pytest.mark.slow
def test_eight_queued_writers_and_a_repeatedly_killed_integrator(app: Any, call: Any) -> None:
    """Eight processes append through the service, each append its own transaction, while the
    integrator is SIGKILLed again and again: afterwards nothing is lost and the log verifies."""
    integrate_pending(db.engine, call.audit)
    call.session.rollback()
    before = audit_views.tree_size(call.session)
    call.session.rollback()  # hold no transaction (on SQLite: no write lock) while they run
    url = without_fsync_wait(app.config["DATABASE_URL"])
    writers = [spawn(app, QUEUED_APPENDER, str(w), str(PER_WRITER), url=url) for w in range(8)]
    kills = 0
    rng = random.Random(13)
    while any(w.poll() is None for w in writers) or kills < 3:
        integrator = spawn(app, INTEGRATOR)  # starts while eight writers hold the database busy
        assert integrator.stdout is not None
        if integrator.stdout.readline() != "ready\n":
            pytest.fail(f"after {kills} kills: " + integrator.communicate()[1][-1500:])
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(integrator.pid, signal.SIGKILL)
        integrator.communicate(timeout=30)
        kills += 1
    written: set[str] = set()
    for w in writers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err[-2000:]
        written.update(out.split())
    assert len(written) == 8 * PER_WRITER
    call.session.rollback()
    integrate_pending(db.engine, call.audit)
    call.session.rollback()
    seqs = list(call.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert seqs == list(range(1, before + 8 * PER_WRITER + 1))  # gapless, none lost, none twice
    stored = {bytes(h).hex() for h in call.session.scalars(
        select(AuditEntry.leaf_hash).where(AuditEntry.seq > before))}  # fmt: skip
    assert stored == written
    report = audit_views.verify_live(call)
    assert report.tree_size == before + 8 * PER_WRITER and report.pending_entries == 0
    assert kills >= 3


def test_a_commit_wakes_the_integrator_of_its_process(app: Any, call: Any) -> None:
    """The integrator polls only every 60 s here: the entry is integrated because the commit
    that queued it woke the integrator; a rolled-back append wakes nothing."""
    integrator = Integrator(db.engine, call.audit, interval=60.0).start()
    try:
        time.sleep(0.2)  # the thread's first (empty) poll
        size = audit_views.tree_size(call.session)
        call.session.rollback()
        call.audit.record(call.session, call.actor, "test.rolled_back", now=call.now())
        call.session.rollback()
        assert not integrator._wake.is_set()
        call.audit.record(call.session, call.actor, "test.woken", now=call.now())
        call.session.commit()
        deadline = time.monotonic() + 10
        while audit_views.tree_size(call.session) == size and time.monotonic() < deadline:
            call.session.rollback()
            time.sleep(0.01)
        assert audit_views.tree_size(call.session) == size + 1
        call.session.rollback()
    finally:
        integrator.stop()
