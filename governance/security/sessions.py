"""Console sessions: Flask's signed cookies, opened only when a request carries one."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    """Flask's default session interface, minus one cost on API calls.

    Flask builds the cookie signer (a key derivation) on every request, even when there is no
    session cookie to read, as on every bearer-token API call. Without the cookie the answer is
    always a new, empty session, so it is returned straight away. With a cookie nothing changes.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
