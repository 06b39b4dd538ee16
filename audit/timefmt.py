"""The audit log's single timestamp format: RFC 3339 UTC with microseconds and a ``Z`` suffix.

Example: ``2024-05-01T12:34:56.789012Z``. Exactly one spelling per instant, so timestamps inside
hashed leaves and signed checkpoints are unambiguous byte strings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def format_timestamp(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with microseconds and a Z suffix."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def check_timestamp(text: object) -> None:
    """Raise ValueError unless text is a timestamp in the audit format."""
    if type(text) is not str or _TIMESTAMP_RE.fullmatch(text) is None:
        raise ValueError("timestamp must look like 2024-05-01T12:34:56.000000Z (RFC 3339, UTC)")
    try:
        datetime.fromisoformat(text[:-1])
    except ValueError:
        raise ValueError("timestamp is not a valid calendar date and time") from None


def parse_timestamp(text: str) -> datetime:
    """Parse a timestamp in the audit format; raise ValueError if it is in any other spelling."""
    check_timestamp(text)
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
