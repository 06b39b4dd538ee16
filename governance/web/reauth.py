"""Re-authentication for sensitive actions: a console session must have entered its password
within ``GOVERNANCE_REAUTH_MINUTES`` (erasure, key rotation, granting access). Shared by the API
(for calls made with a console session) and the console."""

from __future__ import annotations

from flask import current_app, session

from governance.bootstrap import deps
from governance.errors import Unauthenticated


class ReauthRequired(Unauthenticated):
    slug = "reauth-required"
    title = "Please confirm your password"


def require_recent_auth() -> None:
    """Sensitive console actions need a password entry within REAUTH_MINUTES.

    Raises ReauthRequired (the console answers it with the password page).
    """
    limit = current_app.config["REAUTH_MINUTES"] * 60
    now = deps(current_app).clock().timestamp()  # the app's clock, as sign-in records it
    if now - session.get("auth_at", 0) > limit:
        raise ReauthRequired("confirm your password to continue")
