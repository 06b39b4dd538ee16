"""What a refused customer call may disclose, and what it leaves in the audit log.

The duplicate check compares blind indexes of values the caller sends with every stored record.
Its answer is an oracle for a role that sees those fields masked: a PATCH that sets a name and a
guessed birth date, answered "a customer with the same full_name+date_of_birth exists: <id>",
unmasks another customer's birth date in at most 366 calls. So:

- every check runs (none short-circuits another), and a caller that does not see in clear every
  field the checks compared gets one fixed answer, whichever checks found a conflict, naming no
  field and no record. A caller that sees them all in clear (``crm_app``) is told which record
  conflicts: it could read that record anyway;
- every refused or failed call on customer data is audited (field names, never values) in its
  own transaction, so it survives the rollback of the request;
- lookups by blind index (list filters, and the duplicate checks a caller drives) by a caller
  that sees one of the compared fields masked count against ``GOVERNANCE_LOOKUP_RATE_LIMIT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from governance.context import Actor, Call
from governance.errors import Conflict, GovernanceError
from governance.models.ids import is_id
from governance.security.masking import CLEAR, default_visibility

# Which stored values a duplicate check compares when a request sends each field.
COMPARED = {
    "email": ("email",),
    "phone": ("phone",),
    "national_id": ("national_id",),
    "external_ref": ("external_ref",),
    "full_name": ("full_name", "date_of_birth"),
    "date_of_birth": ("full_name", "date_of_birth"),
}
COMPARED_ALL = frozenset(field for fields in COMPARED.values() for field in fields)
GENERIC_CONFLICT = "the change conflicts with an existing customer record"
DENIED = (403, 409, 429)


def compared_fields(sent: Iterable[str]) -> set[str]:
    """The fields whose stored values a lookup or duplicate check over ``sent`` compares."""
    return {field for name in sent for field in COMPARED.get(name, ())}


def sees_in_clear(actor: Actor, fields: Iterable[str]) -> bool:
    """True when every one of ``fields`` is shown to ``actor`` in clear (without reveal)."""
    policy = default_visibility()
    return all(policy.level(actor.roles, field) == CLEAR for field in fields)


def lookup_is_limited(actor: Actor, sent: Iterable[str]) -> bool:
    """True when a request sending ``sent`` drives a lookup the caller could not read back."""
    fields = compared_fields(sent)
    return bool(fields) and not sees_in_clear(actor, fields)


def conflict(actor: Actor, compared: Iterable[str], found: list[str]) -> Conflict:
    """The 409 for conflicts ``found`` (messages naming fields and ids), as ``actor`` may see it.

    ``compared`` names the fields the checks compared. The wording depends only on them and on
    the caller's roles, never on which checks matched: a right guess and a wrong one get the
    same answer.
    """
    if sees_in_clear(actor, compared_fields(compared)):
        return Conflict("; ".join(found))
    return Conflict(GENERIC_CONFLICT)


def _purpose_refused(exc: GovernanceError) -> bool:
    """An unknown purpose (422 on X-Purpose) is a refused read, not a failed one."""
    return any(e.get("field") == "X-Purpose" for e in exc.errors)


def record_refusal(
    call: Call,
    action: str,
    exc: GovernanceError,
    *,
    subject_id: str | None = None,
    resource: str = "customers",
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a refused or failed customer call on its own (the request's work is rolled back).

    ``details`` holds field or filter names only. A subject id is kept only when it is a
    well-formed id: a path segment may be anything the caller typed, personal data included.
    """
    if getattr(exc, "first", True) is False:  # a repeated 429 in the same minute
        return
    call.audit.record_alone(
        call.session,
        call.actor,
        action,
        now=call.now(),
        resource=resource,
        subject_id=subject_id if is_id(subject_id) else None,
        purpose=call.purpose_name,
        outcome="denied" if exc.status in DENIED or _purpose_refused(exc) else "failed",
        details={"status": exc.status, "error": exc.slug, **(details or {})},
    )
