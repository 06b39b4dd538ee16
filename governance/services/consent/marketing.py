"""The customer document's ``marketing`` flags as a view of the consent ledger.

``{"email": true, "sms": false}`` reads the current consent of ``marketing_email``,
``marketing_sms``, ``marketing_phone`` and ``marketing_post``: true when granted and in force,
false when withdrawn, refused, expired or needing re-consent, absent when the ledger has nothing.
A write of the flags (create, PATCH, import) records the events that make the view say what was
written, under the notice in force: nothing is overwritten, nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from governance.context import Call
from governance.errors import ValidationError
from governance.models import Notice
from governance.services.consent.lawful_basis import MARKETING, subject_states
from governance.services.consent.ledger import Request, append
from governance.services.consent.notices import in_force_with_purposes


def views(call: Call, ids: Sequence[str]) -> dict[str, dict[str, bool]]:
    """The marketing view of each of ``ids`` (one query)."""
    return subject_states(call, None, ids, check=False, marketing=True).marketing


def changes(before: Mapping[str, bool], after: Mapping[str, bool]) -> list[tuple[str, str]]:
    """(flag, action) for each flag whose view would change from ``before`` to ``after``."""
    out = []
    for flag in MARKETING:
        old, new = before.get(flag), after.get(flag)
        if new is True and old is not True:
            out.append((flag, "grant"))
        elif old is True and new is not True:
            out.append((flag, "withdraw"))
        elif new is False and old is None:
            out.append((flag, "refuse"))
    return out


def write(
    call: Call,
    customer_id: str,
    before: Mapping[str, bool],
    after: Mapping[str, bool],
    source: str,
    notice: tuple[Notice | None, set[str]] | None = None,
) -> dict[str, bool]:
    """Record the consent events a write of the flags means (grants and refusals under the
    notice in force); returns the new view. ``notice``: the notice in force and its purposes,
    when the caller has them already (an import)."""
    todo = changes(before, after)
    if not todo:
        return dict(before)
    current, covered = notice or in_force_with_purposes(call)
    for flag, action in todo:
        purpose = MARKETING[flag]
        chosen = None
        if action != "withdraw":
            if current is None or purpose not in covered:
                raise ValidationError(
                    "no notice in force asks consent for this",
                    [{"field": f"marketing.{flag}", "message": f"no notice covers {purpose}"}],
                )
            chosen = current
        req = Request(customer_id, purpose, action, source, chosen, call.now())
        append(call, req, {}, granted=before.get(flag) is True)
    view = dict(before)
    for flag, action in todo:
        view[flag] = action == "grant"
    return view
