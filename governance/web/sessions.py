"""Console sessions at the edge: Flask's signed cookies, opened and saved only when a request
uses them. The server-side session each signed-in cookie points to (its ``sid``) is kept by
``services/identity/sessions.py``.
"""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class CookieSessions(SecureCookieSessionInterface):
    """Flask's default session interface, minus two costs on API calls.

    Flask builds the cookie signer (a key derivation) on every request, even when there is no
    session cookie to read, and works out every cookie attribute before finding that an empty,
    unchanged session needs no cookie, as on every bearer-token API call. Both are skipped when
    the outcome is known; with a cookie, or a changed session, nothing changes.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ  # no cookies at all: no parsing either
            or self.get_cookie_name(app) not in request.cookies
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            # No cookie came in and none goes out. (Flask would add "Vary: Cookie" when the
            # session was merely looked at; every answer here is "Cache-Control: no-store",
            # so no cache keeps it, and the header parse costs more than the rest.)
            return
        super().save_session(app, session, response)
