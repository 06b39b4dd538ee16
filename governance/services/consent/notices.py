"""Privacy notices, versioned: the purposes each version asks consent for, its text (or URL) and
the SHA-256 of its text, its effective date and the consent lifetime it states.

A version that adds a purpose, or lists it under ``widens`` (a wider use than before), marks the
consents given under earlier versions "re-consent needed" for that purpose once it takes effect
(``rules.consent_valid``). Notices are append-only: a change is a new version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from governance.context import Call
from governance.errors import Conflict, ValidationError
from governance.models import Notice, NoticePurpose
from governance.purposes import current as purposes
from governance.services.customers.normalise import FieldError, parse_timestamp

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
MAX_TEXT = 100_000


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def all_notices(call: Call) -> list[tuple[Notice, list[NoticePurpose]]]:
    """Every notice version, oldest first, with its purposes (two queries)."""
    notices = call.session.scalars(select(Notice).order_by(Notice.effective_at)).all()
    rows = call.session.scalars(select(NoticePurpose).order_by(NoticePurpose.purpose)).all()
    by_version: dict[str, list[NoticePurpose]] = {}
    for row in rows:
        by_version.setdefault(row.version, []).append(row)
    return [(n, by_version.get(n.version, [])) for n in notices]


def notice_json(notice: Notice, rows: Sequence[NoticePurpose]) -> dict[str, Any]:
    return {
        "version": notice.version,
        "effective_at": iso(notice.effective_at),
        "text_sha256": notice.text_sha256,
        "purposes": [r.purpose for r in rows],
        "widens": [r.purpose for r in rows if r.widens],
        "url": notice.url,
        "consent_lifetime_days": notice.lifetime_days,
    }


def list_notices(call: Call) -> dict[str, Any]:
    """``{"items": [...]}``: every version, oldest first."""
    return {"items": [notice_json(n, rows) for n, rows in all_notices(call)]}


def in_force(call: Call, now: datetime | None = None) -> Notice | None:
    """The notice in force now: the latest whose effective date has come."""
    moment = now or call.now()
    query = select(Notice).where(Notice.effective_at <= moment)
    return call.session.scalars(query.order_by(Notice.effective_at.desc()).limit(1)).first()


def in_force_with_purposes(call: Call) -> tuple[Notice | None, set[str]]:
    """The notice in force and the purposes it asks consent for, in one query."""
    latest = (
        select(Notice.version)
        .where(Notice.effective_at <= call.now())
        .order_by(Notice.effective_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = call.session.execute(
        select(Notice, NoticePurpose.purpose)
        .outerjoin(NoticePurpose, NoticePurpose.version == Notice.version)
        .where(Notice.version == latest)
    ).all()
    if not rows:
        return None, set()
    return rows[0][0], {purpose for _, purpose in rows if purpose is not None}


def get_notice(call: Call, version: Any, field: str = "notice_version") -> Notice:
    """The notice ``version``; ValidationError naming ``field`` when there is none."""
    notice = call.session.get(Notice, version) if isinstance(version, str) else None
    if notice is None:
        raise ValidationError(
            "unknown notice version", [{"field": field, "message": "is not a notice version"}]
        )
    return notice


def covers(call: Call, notice: Notice, purpose: str) -> bool:
    return call.session.get(NoticePurpose, (notice.version, purpose)) is not None


def publish_notice(call: Call, data: Any) -> dict[str, Any]:
    """Add a notice version (audited as ``consent.notice``); 422 naming each bad field, 409 when
    the version exists."""
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    errors: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    version = data.get("version")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        bad("version", "must be 1 to 32 letters, digits, '.', '_' or '-'")
    text, url = data.get("text"), data.get("url")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        bad("text", f"is required (up to {MAX_TEXT} characters)")
    if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
        bad("url", "must be an https:// address")
    consent = set(purposes().consent_based())
    listed = data.get("purposes")
    if not isinstance(listed, list) or not listed or not all(p in consent for p in listed):
        bad("purposes", f"must list consent-based purposes ({', '.join(sorted(consent))})")
        listed = []
    widens = data.get("widens", [])
    if not isinstance(widens, list) or not all(p in consent for p in widens):
        bad("widens", "must list consent-based purposes")
        widens = []
    listed = [*listed, *widens]  # a purpose the notice widens is one it asks consent for
    lifetime = data.get("consent_lifetime_days")
    if lifetime is not None and (
        not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 1 <= lifetime <= 36500
    ):
        bad("consent_lifetime_days", "must be a number of days from 1 to 36500")
    try:
        effective = parse_timestamp(data.get("effective_at") or call.now())
    except FieldError as exc:
        bad("effective_at", str(exc))
        effective = call.now()
    if errors:
        raise ValidationError("the notice has invalid fields", errors)
    assert isinstance(version, str) and isinstance(text, str)
    if call.session.get(Notice, version) is not None:
        raise Conflict(f"notice version {version} exists: publish a new version")
    previous = in_force(call, effective)
    before = (
        {r.purpose for r in call.session.scalars(
            select(NoticePurpose).where(NoticePurpose.version == previous.version))}
        if previous else set()
    )  # fmt: skip
    notice = Notice(
        version=version,
        effective_at=effective,
        text=text,
        url=url,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        lifetime_days=lifetime,
        created_at=call.now(),
    )
    call.session.add(notice)
    rows = [
        NoticePurpose(
            version=version,
            purpose=p,
            widens=p in widens or p not in before,
            effective_at=effective,
        )
        for p in dict.fromkeys(listed)
    ]
    call.session.add_all(rows)
    call.session.flush()
    doc = notice_json(notice, rows)
    call.audit.record(
        call.session,
        call.actor,
        "consent.notice",
        now=call.now(),
        resource="consent",
        details={k: doc[k] for k in ("version", "effective_at", "text_sha256", "purposes",
                                      "widens", "consent_lifetime_days")},
    )  # fmt: skip
    return doc


def purposes_json() -> dict[str, Any]:
    """``{"items": [...]}``: every purpose of ``purposes.yaml`` (read-only to apps)."""
    return {"items": [spec.to_json() for spec in purposes().specs.values()]}
