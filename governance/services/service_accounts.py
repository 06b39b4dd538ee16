"""Applications: service accounts and their API tokens (Bearer, shown once, stored hashed).

A token is bound to one service account and so to its (service) roles. Every change is audited
in the same transaction; the guard's token cache forgets a changed token or account when the
change commits (security/token_cache.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from governance.errors import Conflict, NotFound, ValidationError
from governance.models import ApiToken, ServiceAccount
from governance.models.ids import new_id
from governance.security import tokens
from governance.services import normalise as norm
from governance.services.context import Call
from governance.services.identity import checked_roles, record


def service_account(call: Call, name: str, roles: list[str] | None = None) -> ServiceAccount:
    """The named service account, created with ``roles`` if it does not exist."""
    clean = _clean_name(name)
    if not clean:
        raise ValidationError("name is required", [{"field": "account", "message": "is required"}])
    account = call.session.scalars(
        select(ServiceAccount).where(ServiceAccount.name == clean)
    ).first()
    if account is None:
        account = ServiceAccount(
            id=new_id(),
            name=clean,
            roles=checked_roles(roles or [], "service"),
            created_at=call.now(),
        )
        call.session.add(account)
        call.session.flush()
        record(call, "service_account.create", account_id=account.id, roles=account.roles)
    elif roles and sorted(set(roles)) != sorted(account.roles):
        account.roles = checked_roles(roles, "service")
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
    """Revoke a token and issue a new one for the same account (a revoked one stays dead)."""
    current = call.session.get(ApiToken, token_id)
    if current is not None and current.revoked_at is not None:
        raise Conflict("the token is already revoked; issue a new one instead")
    old = revoke_token(call, token_id)
    account = call.session.get(ServiceAccount, old.service_account_id)
    assert account is not None
    return create_token(call, account, expires_days)


def token_expired(token: ApiToken, now: datetime) -> bool:
    return token.expires_at is not None and token.expires_at <= now
