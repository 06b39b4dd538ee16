"""Shared helpers of the identity tests: the real sign-in flow, CSRF tokens, audit rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from conftest import PASSWORD

from governance.security.mfa import time_step, totp_at_step

_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def totp_now(secret: str) -> str:
    """The current RFC 6238 code for ``secret``."""
    return totp_at_step(secret, time_step(datetime.now(UTC)))


def csrf_from(client: Any, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (a page the client may open)."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return next(group for group in match.groups() if group)


def sign_out(client: Any) -> Any:
    """Press the page's Sign out button (a CSRF-checked POST)."""
    return client.post("/logout", data={"csrf_token": csrf_from(client, "/logout")})


def sign_in_password(client: Any, email: str, password: str = PASSWORD) -> Any:
    """Submit the sign-in form (first factor) with a valid CSRF token."""
    token = csrf_from(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def submit_code(client: Any, code: str) -> Any:
    """Submit the second-factor form (or the enrolment confirmation)."""
    token = csrf_from(client, "/login/mfa")
    return client.post("/login/mfa", data={"code": code, "csrf_token": token})


def sign_in(client: Any, email: str, secret: str, password: str = PASSWORD) -> Any:
    """Password then the current TOTP code; returns the final response."""
    first = sign_in_password(client, email, password)
    assert first.status_code == 302 and first.location.endswith("/login/mfa"), first.status_code
    return submit_code(client, totp_now(secret))


def audit(app: Any, action: str | None = None) -> list[dict[str, Any]]:
    """Audit entries (as leaf objects with ``details``), oldest first, optionally one action."""
    from governance.extensions import db
    from governance.models import AuditEntry

    with app.app_context():
        query = db.session.query(AuditEntry).order_by(AuditEntry.seq)
        if action is not None:
            query = query.filter(AuditEntry.action == action)
        rows = [json.loads(row.leaf) for row in query]
        db.session.rollback()
    return rows


def user_row(app: Any, email: str) -> Any:
    """The stored user (detached copy of its columns as a dict)."""
    from governance.extensions import db
    from governance.models import User

    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        data = {c.name: getattr(user, c.name) for c in User.__table__.columns}
        db.session.rollback()
    return data


@contextmanager
def service(app: Any) -> Iterator[Any]:
    """A system service call in a short app context, committed at the end.

    (The ``call`` fixture keeps an app context open for the whole test, which makes every test
    client request share one ``g``; tests that drive the client use this instead.)
    """
    from governance.bootstrap import deps
    from governance.extensions import db

    with app.app_context():
        yield deps(app).call(db.session)
        db.session.commit()
