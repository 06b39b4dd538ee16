"""Helpers of the data-subject request tests: a DPO session and customers by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from governance.models import Customer
from tests.conftest import csrf_headers, login_as, make_customer


def dpo(app: Any, client: Any) -> dict[str, str]:
    """A signed-in DPO console session on ``client``; the headers of its API writes."""
    login_as(app, client, "dpo")
    return csrf_headers(client)


def new_customer(call: Any, **overrides: Any) -> str:
    """Create a customer; its id (the system's own view of the document masks everything)."""
    make_customer(call, **overrides)
    found = call.session.scalar(select(func.max(Customer.id)))
    call.session.rollback()  # SQLite: a read transaction would hold the writer lock
    return str(found)


def run_jobs(app: Any) -> None:
    """Run every queued job here (what the worker would do)."""
    from governance.bootstrap import deps
    from governance.extensions import db
    from governance.services.jobs import queue

    with app.app_context():
        call = deps(app).call(db.session)
        while queue.tick(call, "test-worker") is not None:
            pass
        db.session.remove()
