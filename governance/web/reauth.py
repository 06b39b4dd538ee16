"""Re-authentication for sensitive actions: a console session must have entered its password
within ``GOVERNANCE_REAUTH_MINUTES`` (erasure, key rotation, granting access). Shared by the API
(for calls made with a console session) and the console.

The console RESUMES the action after the password check: the refused form (its fields, not its
CSRF token nor any uploaded file) is sealed (Fernet: AES-128-CBC + HMAC-SHA256, under a key
derived from the app's secret key, so the cookie carries no readable form values) into the
session with the path it was posted to; once the password is confirmed, the re-auth page posts
it again to that path with a fresh CSRF token (``console.js`` submits it; a button does without
script). A sealed form is good for one use, for ``RESUME_SECONDS``, on the path it came from.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session

from governance.bootstrap import deps
from governance.errors import Unauthenticated

RESUME_SECONDS = 600
_NOT_RESUMED = frozenset({"csrf_token"})


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


def _fernet() -> Fernet:
    secret = str(current_app.secret_key or "").encode()
    key = hashlib.sha256(b"governance.reauth.resume\x00" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def remember_pending(path: str, fields: list[tuple[str, str]]) -> None:
    """Keep the refused POST (sealed) so the action resumes after the password check."""
    kept = [(k, v) for k, v in fields if k not in _NOT_RESUMED]
    plain = json.dumps({"path": path, "fields": kept}).encode()
    now = int(deps(current_app).clock().timestamp())
    session["resume"] = _fernet().encrypt_at_time(plain, now).decode("ascii")


def take_pending() -> dict[str, Any] | None:
    """The sealed form (``path``, ``fields``), removed from the session; None if absent or old."""
    sealed = session.pop("resume", None)
    if not sealed:
        return None
    now = int(deps(current_app).clock().timestamp())
    try:
        plain = _fernet().decrypt_at_time(sealed.encode("ascii"), RESUME_SECONDS, now)
    except (InvalidToken, ValueError):
        return None
    data: dict[str, Any] = json.loads(plain)
    return data
