"""The job runner inside ``governance up`` and ``governance serve``: the embedded default is whole.

A daemon thread in each server process polls for queued jobs and runs them, exactly as a separate
``governance worker`` would (``jobs.tick``): claims are exclusive across threads, processes and
machines (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so any number
of gunicorn workers and standalone workers may run side by side. ``stop`` lets the job in hand
finish its current step; a job cut off by a hard kill is claimed again once its heartbeat is stale
and resumes from its last checkpoint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from governance.context import Call
from governance.services.jobs import queue as jobs

log = logging.getLogger(__name__)

CallFactory = Callable[[], AbstractContextManager[Call]]


class JobRunner:
    """Poll-claim-run in a background thread until ``stop``."""

    def __init__(self, open_call: CallFactory, name: str, poll: float = 2.0) -> None:
        self._open_call = open_call
        self.name = name
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> JobRunner:
        """Start the thread (once); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name=f"jobs:{self.name}", daemon=True
            )
            self._thread.start()
            log.info("job runner %s started", self.name)
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to stop after the job in hand and wait; True once it has ended."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        stopped = not self.alive
        log.info("job runner %s %s", self.name, "stopped" if stopped else "still finishing a job")
        return stopped

    def _loop(self) -> None:
        pause = self.poll
        while not self._stop.is_set():
            try:
                with self._open_call() as call:
                    job = jobs.tick(call, self.name)
                pause = self.poll
            except Exception as exc:  # a database outage must not end the runner
                log.warning("job runner %s: %s; retrying", self.name, type(exc).__name__)
                job, pause = None, min(pause * 2, 60.0)
            if job is None:
                self._stop.wait(pause)
