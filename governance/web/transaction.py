"""The unit of work of a request (``governance/unit_of_work.py``): views never commit.

A view that returns commits its work *before the answer is sent*: an ``after_request`` hook
commits the session, and a commit that fails turns the answer into a 500 problem, so no data
leaves whose audit entry was not kept. A view that raises is rolled back by the error handlers
(``web/edge.py``) and by ``teardown_request``; refusals the guard records are committed on their
own (``web/guard.record_refusal``). A view cannot serve a read and lose its audit entry by
forgetting a commit, since it has none to forget.

Work that must follow the commit (clearing SQLite's WAL after an erasure) registers with
``after_commit``. Streamed answers (the audit export) commit before the first byte as well: their
generator reads a spool file or a snapshot connection of its own, not the request's session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, g, request

from governance.extensions import db

log = logging.getLogger(__name__)


def after_commit(action: Callable[[], object]) -> None:
    """Run ``action`` once this request's work is committed (not at all if it is rolled back)."""
    g.setdefault("after_commit", []).append(action)


def rollback() -> None:
    """Drop this request's work, and what was to follow its commit (a view raised)."""
    db.session.rollback()
    g.pop("after_commit", None)


def register_unit_of_work(app: Flask) -> None:
    """Commit each answered request's work before its answer leaves (see module docstring)."""
    registry = db.session.registry

    @app.after_request
    def _commit(response: Response) -> Response:
        # A request that never opened the session (a probe, a read served off a read connection)
        # has nothing to commit: no session is created just to commit it.
        if registry.has() and registry().in_transaction():
            try:
                db.session.commit()
            except Exception as exc:
                rollback()
                log.error("commit failed (%s) on %s %s", type(exc).__name__, request.method,
                          request.path)  # fmt: skip
                return _failed()
        for action in g.pop("after_commit", ()):
            action()
        return response


def _failed() -> Response:
    from flask import make_response

    from governance.web.edge import _problem_response

    detail = f"the request failed and changed nothing (request id {g.get('request_id', '-')})"
    response: Response = make_response(
        _problem_response(500, "internal-error", "Internal error", detail)
    )
    return response
