"""Console sessions on the server side: the row each signed-in cookie points to.

The cookie carries a random session id (``sid``, 256 bits); the database keeps only its
SHA-256 in ``console_sessions``. A session counts while its row exists and was used within the
idle timeout, so ending one is deleting its row: sign-out ends that browser's session; a
password change, disabling the account, resetting two-factor or changing roles end all of the
user's sessions (``end_user_sessions``). A copy of the cookie is worth nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from governance.models import ConsoleSession

# last_seen_at is written at most this often per session (not on every request).
TOUCH_SECONDS = 60


def _key(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(db: Session, user_id: str, now: datetime, idle: timedelta) -> str:
    """A new server-side session for ``user_id``; returns the secret id for the cookie.

    Also drops the user's sessions idle for longer than ``idle`` (they can never count again).
    """
    db.execute(
        delete(ConsoleSession).where(
            ConsoleSession.user_id == user_id, ConsoleSession.last_seen_at < now - idle
        )
    )
    sid = secrets.token_urlsafe(32)
    db.add(ConsoleSession(id=_key(sid), user_id=user_id, created_at=now, last_seen_at=now))
    return sid


def session_state(db: Session, sid: object, user_id: str, now: datetime, idle: timedelta) -> str:
    """``"active"`` (its last use refreshed when due), ``"idle"`` or ``"ended"``."""
    if not isinstance(sid, str) or not sid:
        return "ended"
    row = db.get(ConsoleSession, _key(sid))
    if row is None or row.user_id != user_id:
        return "ended"
    # A session may be idle up to ``idle``; last_seen_at lags by at most TOUCH_SECONDS.
    if now - row.last_seen_at > idle + timedelta(seconds=TOUCH_SECONDS):
        return "idle"
    if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        row.last_seen_at = now
    return "active"


def end_session(db: Session, sid: object) -> None:
    """End one session (sign-out); nothing happens for an unknown id."""
    if isinstance(sid, str) and sid:
        db.execute(delete(ConsoleSession).where(ConsoleSession.id == _key(sid)))


def end_user_sessions(db: Session, user_id: str) -> int:
    """End every session of ``user_id``; returns how many there were."""
    result = db.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)
