"""The unit of work: one transaction per request, CLI command or job step.

Whoever starts a piece of work owns its transaction, never the code it calls: the web edge for a
request (``web/transaction.py``), the command group for a CLI command (``cli.py``), the job runner
for a job step (``services/jobs/queue.py``, which commits at its documented checkpoints). Work
that finishes commits once, and the action and its audit entry become visible together; work that
fails rolls back, so nothing it wrote, audit entries included, stays. A refusal that must be
recorded although the work failed is written in a transaction of its own
(``AuditService.record_alone``, ``web.guard.record_refusal``).

Services never commit, except long jobs at documented checkpoints (each such ``commit()`` in
``services/`` carries a comment saying why).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, scoped_session


@contextmanager
def unit_of_work(session: Session | scoped_session[Any]) -> Iterator[Any]:
    """Commit ``session`` when the block ends normally, roll it back when it raises.

    A failed commit is rolled back and raised: nothing of the block is kept.
    """
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
