"""Applications: service accounts and their API tokens (Bearer, shown once, stored hashed).

A token is bound to one service account and so to its (service) roles. Every change is audited
in the same transaction; the guard's token cache forgets a changed token or account when the
change commits (security/token_cache.py).

Separation of duties: a person (the admin, through the console or the API) may not give an
application a role that reads customer data, nor take a token (issue or rotate) of an account
holding one: the admin would hold customer data it is not allowed to see. The refusal is
audited as ``access.grant_refused`` and shown on the dashboard. An operator on the server
machine does it with ``governance tokens create`` (audited as that operator).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select

from governance.context import Call
from governance.errors import Conflict, Forbidden, NotFound, ValidationError
from governance.models import ApiToken, AuditEntry, ServiceAccount
from governance.models.ids import new_id
from governance.security import tokens
from governance.security.masking import HIDDEN, default_visibility
from governance.services.customers import normalise as norm
from governance.services.identity.people import checked_roles, record

GRANT_REFUSED = "access.grant_refused"


def reads_customer_data(roles: list[str]) -> bool:
    """True if any of ``roles`` sees some customer field, in clear or masked."""
    policy = default_visibility()
    return any(
        level != HIDDEN
        for role in roles
        if role in policy.roles
        for level in policy.roles[role].fields.values()
    )


def _separation_of_duties(call: Call, attempted: str, roles: list[str], **details: str) -> None:
    """Refuse (403, audited on its own) a person granting an application customer data."""
    if call.actor.type != "user" or not reads_customer_data(roles):
        return
    call.audit.record_alone(
        call.session,
        call.actor,
        GRANT_REFUSED,
        now=call.now(),
        resource="identity",
        outcome="denied",
        details={"attempted": attempted, "roles": sorted(roles), **details},
    )
    raise Forbidden(
        "a role that reads customer data is granted to an application by an operator on the "
        "server (governance tokens create), not from the console or the API"
    )


def grant_refusals(call: Call) -> int:
    """How many times a person was refused granting an application customer data."""
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == GRANT_REFUSED)
    return int(call.session.scalar(query) or 0)


def service_account(call: Call, name: str, roles: list[str] | None = None) -> ServiceAccount:
    """The named service account, created with ``roles`` if it does not exist."""
    clean = _clean_name(name)
    if not clean:
        raise ValidationError("name is required", [{"field": "account", "message": "is required"}])
    account = call.session.scalars(
        select(ServiceAccount).where(ServiceAccount.name == clean)
    ).first()
    if account is None:
        checked = checked_roles(roles or [], "service")
        _separation_of_duties(call, "service_account.create", checked)
        account = ServiceAccount(id=new_id(), name=clean, roles=checked, created_at=call.now())
        call.session.add(account)
        call.session.flush()
        record(call, "service_account.create", account_id=account.id, roles=account.roles)
    elif roles and sorted(set(roles)) != sorted(account.roles):
        checked = checked_roles(roles, "service")
        _separation_of_duties(call, "service_account.roles", checked, account_id=account.id)
        account.roles = checked
        record(call, "service_account.roles", account_id=account.id, roles=account.roles)
    return account


def create_service_account(call: Call, name: str, roles: list[str]) -> ServiceAccount:
    """A new service account; Conflict if the name is taken."""
    clean = _clean_name(name)
    if (
        clean
        and call.session.scalars(
            select(ServiceAccount.id).where(ServiceAccount.name == clean)
        ).first()
    ):
        raise Conflict("a service account with this name exists")
    return service_account(call, name, list(roles))


def _clean_name(name: str) -> str | None:
    """The trimmed name; ValidationError (422, not a 500) for control characters or length."""
    try:
        return norm.clean_text(name, max_length=128)
    except norm.FieldError as exc:
        raise ValidationError("invalid name", [{"field": "name", "message": str(exc)}]) from None


def list_service_accounts(call: Call) -> list[ServiceAccount]:
    return list(call.session.scalars(select(ServiceAccount).order_by(ServiceAccount.name)))


def get_service_account(call: Call, account_id: str) -> ServiceAccount:
    """The service account with this id; NotFound otherwise."""
    account = call.session.get(ServiceAccount, account_id)
    if account is None:
        raise NotFound("no such service account")
    return account


def set_service_account_state(call: Call, account_id: str, state: str) -> ServiceAccount:
    """Disable (all its tokens stop working at once) or re-activate a service account."""
    account = get_service_account(call, account_id)
    if state not in ("active", "disabled"):
        raise ValidationError("bad state", [{"field": "state", "message": "active or disabled"}])
    account.state = state
    record(call, "service_account.state", account_id=account.id, state=state)
    return account


def list_tokens(call: Call, account_id: str) -> list[ApiToken]:
    """The account's tokens, newest first (ids and dates only: secrets are never stored)."""
    return list(
        call.session.scalars(
            select(ApiToken)
            .where(ApiToken.service_account_id == account_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def create_token(call: Call, account: ServiceAccount, expires_days: int | None = None) -> str:
    """A new API token for ``account``; the full token is returned once, only its hash stored."""
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise ValidationError("bad expiry", [{"field": "expires_days", "message": "1 to 3650"}])
    _separation_of_duties(call, "token.create", list(account.roles), account_id=account.id)
    token_id, full = tokens.generate_token()
    expires = call.now() + timedelta(days=expires_days) if expires_days else None
    call.session.add(
        ApiToken(
            id=token_id,
            service_account_id=account.id,
            created_at=call.now(),
            secret_hash=tokens.hash_token_secret(full),
            expires_at=expires,
        )
    )
    record(
        call,
        "token.create",
        account_id=account.id,
        token_id=token_id,
        expires_at=expires.isoformat() if expires else None,
    )
    return full


def revoke_token(call: Call, token_id: str) -> ApiToken:
    """Revoke a token at once (idempotent; audited)."""
    token = call.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = call.now()
    record(call, "token.revoke", token_id=token_id)
    return token


def rotate_token(call: Call, token_id: str, expires_days: int | None = None) -> str:
    """Revoke a token and issue a new one for the same account (a revoked one stays dead).

    Without ``expires_days`` the replacement keeps the old token's lifetime, counted from now:
    rotating is not a way to turn a token that expires into one that never does.
    """
    current = call.session.get(ApiToken, token_id)
    if current is not None and current.revoked_at is not None:
        raise Conflict("the token is already revoked; issue a new one instead")
    owner = call.session.get(ServiceAccount, current.service_account_id) if current else None
    if owner is not None:  # a replacement is a new secret for whoever rotates
        _separation_of_duties(call, "token.rotate", list(owner.roles), account_id=owner.id)
    old = revoke_token(call, token_id)
    account = call.session.get(ServiceAccount, old.service_account_id)
    assert account is not None
    if expires_days is None:
        expires_days = lifetime_days(old)
    return create_token(call, account, expires_days)


def lifetime_days(token: ApiToken) -> int | None:
    """Whole days from a token's creation to its expiry (rounded up, at least 1); None: never."""
    if token.expires_at is None:
        return None
    seconds = (token.expires_at - token.created_at).total_seconds()
    return min(3650, max(1, math.ceil(seconds / 86400)))


def token_expired(token: ApiToken, now: datetime) -> bool:
    return token.expires_at is not None and token.expires_at <= now
