"""The integrator: one sequencer at a time extends the audit tree from the queue, in batches.

A daemon thread in every ``governance serve``, ``up`` and ``worker`` process (next to the job
runner), so the embedded default integrates with nothing else started. Only the holder of the
lease works:

* PostgreSQL: ``pg_try_advisory_lock`` on a connection the thread keeps; the lease ends with that
  connection (a killed process, a lost network), and another process takes it on its next poll.
  Safe across processes and machines sharing one database.
* SQLite: one machine, and every integration runs under the database's single writer lock, so the
  writer lock is the lease; the thread only asks for it when the queue holds entries.

Woken on commit: a process's own writers wake its integrator when a transaction that queued an
entry commits (an in-process event, ``AuditLog.wake``); it then waits ``gather`` seconds (a short
busy interval, so one integration takes the entries of every request committing meanwhile) and
integrates. Entries committed by other processes are found by the poll every ``interval``
seconds.

The lease only saves work: correctness comes from ``AuditLog.integrate`` running under the
``audit_state`` row lock in one transaction, so even two integrators could not fork the log, and
a SIGKILL at any point leaves each batch wholly integrated or still queued.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, exists, select, text
from sqlalchemy.orm import Session

from governance.database import read_connection
from governance.services.auditlog.append import QUEUE, AuditLog

log = logging.getLogger(__name__)

LEASE_KEY = 0x61756469  # "audi": the advisory lock id of the integrator lease


class Integrator:
    """Integrate committed audit entries every ``interval`` seconds while holding the lease."""

    def __init__(
        self, engine: Engine, audit: AuditLog, interval: float = 0.2, gather: float = 0.05
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.interval = interval
        self.gather = gather
        self._lease: Connection | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def holds_lease(self) -> bool:
        """Take (or keep) the lease; False while another process holds it."""
        if self.engine.dialect.name != "postgresql":
            return True
        if self._lease is None:
            conn = self.engine.connect()
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_KEY}))
            conn.commit()  # a session-level lock: it outlives the transaction
            if not got:
                conn.close()
                return False
            self._lease = conn
            log.info("audit integrator lease taken")
        return True

    def release(self) -> None:
        """Give the lease up (closing its connection ends the advisory lock)."""
        if self._lease is not None:
            try:
                self._lease.close()
            finally:
                self._lease = None

    def pending(self) -> bool:
        """Whether the queue holds anything, read without the SQLite writer lock."""
        with read_connection(self.engine) as conn:
            return bool(conn.scalar(select(exists().where(QUEUE.c.id > 0))))

    def run_once(self, now: datetime | None = None) -> int:
        """Integrate one batch if this process holds the lease; return how many entries."""
        if not self.holds_lease() or not self.pending():
            return 0
        with Session(self.engine) as session:
            count = len(self.audit.integrate(session, now or datetime.now(UTC)))
            session.commit()
        return count

    def start(self) -> Integrator:
        """Start the thread (once); returns self."""
        if self._thread is None:
            self.audit.inline = False
            self.audit.wake = self._wake.set
            self._thread = threading.Thread(target=self._loop, name="audit-integrator",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Integrate what is left, stop the thread and give the lease up."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.audit.wake = None
        self.audit.inline = True  # anything recorded from now on integrates at once

    def _loop(self) -> None:
        pause = self.interval
        while not self._stop.is_set():
            try:
                while self.run_once() >= self.audit.batch:
                    pass  # a backlog: keep going without waiting
                pause = self.interval
            except Exception as exc:  # a database outage must not end the integrator
                log.warning("audit integrator: %s; retrying", type(exc).__name__)
                self.release()
                pause = min(pause * 2, 10.0)
            # Commits wake the lease holder only (on PostgreSQL another process may hold it; this
            # one then just polls for the lease).
            leader = self.engine.dialect.name != "postgresql" or self._lease is not None
            if not leader:
                self._stop.wait(pause)
            elif self._wake.wait(pause) and not self._stop.is_set():
                self._stop.wait(self.gather)  # woken by a commit: let its neighbours commit too
            self._wake.clear()
        try:
            self.run_once()
        except Exception as exc:
            log.warning("audit integrator: final batch: %s", type(exc).__name__)
        self.release()


def integrate_pending(engine: Engine, audit: AuditLog) -> int:
    """Integrate everything queued now, in transactions of its own; return how many entries.

    For the CLI and tests: takes the ``audit_state`` lock without the lease (safe, see above).
    """
    total = 0
    integrator = Integrator(engine, audit)
    integrator.holds_lease = lambda: True  # type: ignore[method-assign]
    while True:
        count = integrator.run_once()
        total += count
        if count < audit.batch:
            return total


def wait_integrated(engine: Engine, timeout: float = 10.0) -> bool:
    """Wait until the queue is empty (another process integrates); False on timeout."""
    deadline = time.monotonic() + timeout
    probe = Integrator(engine, AuditLog.__new__(AuditLog))
    while probe.pending():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
