"""Identity administration API: users and roles, service accounts and tokens, the policy.

Admin roles are held by people, and people do not get API tokens, so these routes accept a
console session (after MFA): safe methods with the cookie alone, state-changing ones only with
the console's CSRF token in an ``X-CSRFToken`` header (see ``governance.web.guard``), and,
like the console, only within ``GOVERNANCE_REAUTH_MINUTES`` of a password entry when they grant
access. A bearer token works too, for a service role that policy allows (none by default).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify

from governance.api import bp, created, json_body, require_recent_password
from governance.api.openapi import json_ok, op, ref, register_operations
from governance.context import Call
from governance.errors import ValidationError
from governance.extensions import db
from governance.models import ApiToken, ServiceAccount, User
from governance.services.identity import people as identity
from governance.services.identity import policy as policy_service
from governance.services.identity import service_accounts
from governance.web.edge import current_call


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_doc(user: User) -> dict[str, Any]:
    """A user as JSON: no hashes, no secrets."""
    return {
        "id": user.id,
        "email": user.email,
        "roles": list(user.roles),
        "state": user.state,
        "mfa_enrolled": bool(user.totp_enrolled),
        "locked_until": _iso(user.locked_until),
        "last_login_at": _iso(user.last_login_at),
        "created_at": _iso(user.created_at),
    }


def token_doc(token: ApiToken) -> dict[str, Any]:
    """A token's metadata (the secret is never stored, so never shown again)."""
    return {
        "id": token.id,
        "created_at": _iso(token.created_at),
        "expires_at": _iso(token.expires_at),
        "revoked_at": _iso(token.revoked_at),
    }


def account_doc(call: Call, account: ServiceAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "roles": list(account.roles),
        "state": account.state,
        "created_at": _iso(account.created_at),
        "tokens": [token_doc(t) for t in service_accounts.list_tokens(call, account.id)],
    }


def _fields(body: Any, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("expected a JSON object", [{"field": "", "message": "not an object"}])
    errors = [{"field": k, "message": "unknown field"} for k in body if k not in allowed]
    errors += [{"field": k, "message": "is required"} for k in sorted(required - set(body))]
    if errors:
        raise ValidationError("invalid fields", errors)
    return body


def _roles_field(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValidationError("bad roles", [{"field": "roles", "message": "a list of role names"}])
    return value


@bp.get("/users")
def list_users() -> Any:
    call = current_call()
    return jsonify({"items": [user_doc(u) for u in identity.list_users(call)]})


@bp.post("/users")
def create_user() -> Any:
    call = current_call()
    body = _fields(json_body(), {"email", "roles", "password"}, {"email", "roles", "password"})
    require_recent_password()  # grants access
    if not isinstance(body["email"], str) or not isinstance(body["password"], str):
        raise ValidationError("bad fields", [{"field": "email", "message": "strings expected"}])
    user = identity.create_user(call, body["email"], _roles_field(body["roles"]), body["password"])
    response = created(user_doc(user))
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return response


@bp.get("/users/<user_id>")
def get_user(user_id: str) -> Any:
    return jsonify(user_doc(identity.get_user(current_call(), user_id)))


@bp.patch("/users/<user_id>")
def update_user(user_id: str) -> Any:
    call = current_call()
    body = _fields(json_body(), {"roles", "state"}, set())
    if not body:
        raise ValidationError("nothing to change", [{"field": "", "message": "roles or state"}])
    user = identity.get_user(call, user_id)
    if "roles" in body:
        require_recent_password()  # grants access
        identity.set_roles(call, user.email, _roles_field(body["roles"]))
    if "state" in body:
        if body["state"] == "active":
            require_recent_password()  # grants access
        identity.set_state(call, user.email, str(body["state"]))
    return jsonify(user_doc(user))


@bp.get("/service-accounts")
def list_service_accounts() -> Any:
    call = current_call()
    accounts = service_accounts.list_service_accounts(call)
    return jsonify({"items": [account_doc(call, a) for a in accounts]})


@bp.post("/service-accounts")
def create_service_account() -> Any:
    call = current_call()
    body = _fields(json_body(), {"name", "roles"}, {"name", "roles"})
    require_recent_password()  # grants access
    account = service_accounts.create_service_account(
        call, str(body["name"]), _roles_field(body["roles"])
    )
    return created(account_doc(call, account))


@bp.post("/service-accounts/<account_id>/tokens")
def create_token(account_id: str) -> Any:
    call = current_call()
    body = _fields(json_body(), {"expires_days"}, set())
    days = body.get("expires_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        raise ValidationError("bad expiry", [{"field": "expires_days", "message": "1 to 3650"}])
    require_recent_password()  # grants access
    account = service_accounts.get_service_account(call, account_id)
    token = service_accounts.create_token(call, account, days)
    token_id = token.split("_")[1]
    return created({"id": token_id, "token": token, "account_id": account.id})


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id: str) -> Any:
    token = service_accounts.revoke_token(current_call(), token_id)
    return jsonify(token_doc(token))


@bp.get("/policy")
def get_policy() -> Any:
    source, lines = policy_service.effective_policy(db.session())
    return jsonify({"source": source, "lines": [list(line) for line in lines]})


@bp.get("/policy/export")
def export_policy() -> Any:
    text = policy_service.export_audited(current_call())
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="policy.csv"'
    return response


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


STAMP = {"type": ["string", "null"], "format": "date-time"}
ROLES = {"type": "array", "items": {"type": "string"}, "minItems": 1}
TOKEN_META = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "created_at": STAMP,
        "expires_at": STAMP,
        "revoked_at": STAMP,
    },
}
SESSION_NOTE = (
    " Console session with an X-CSRFToken header; granting access needs a password entry "
    "within GOVERNANCE_REAUTH_MINUTES (401 reauth-required otherwise)."
)
register_operations(
    {
        "/users": {
            "get": op(
                "People with console access, their roles, state and MFA status", json_ok("UserList")
            ),
            "post": op(
                "Create a person account (MFA enrolment at first sign-in)." + SESSION_NOTE,
                json_ok("User", "Created"),
                "UserInput",
                status="201",
            ),
        },
        "/users/{user_id}": {
            "get": op("One person account", json_ok("User"), params=[_path("user_id")]),
            "patch": op(
                "Change roles (never your own) or state (active, disabled)." + SESSION_NOTE,
                json_ok("User"),
                "UserPatch",
                params=[_path("user_id")],
            ),
        },
        "/service-accounts": {
            "get": op(
                "Applications' service accounts and their tokens' metadata",
                json_ok("ServiceAccountList"),
            ),
            "post": op(
                "Create a service account." + SESSION_NOTE,
                json_ok("ServiceAccount", "Created"),
                "ServiceAccountInput",
                status="201",
            ),
        },
        "/service-accounts/{account_id}/tokens": {
            "post": op(
                "Issue an API token: the response is the only time it is shown." + SESSION_NOTE,
                json_ok("TokenCreated", "Created"),
                "TokenInput",
                params=[_path("account_id")],
                status="201",
            ),
        },
        "/tokens/{token_id}": {
            "delete": op("Revoke a token at once", params=[_path("token_id")]),
        },
        "/policy": {"get": op("The enforced authorisation policy lines and their source")},
        "/policy/export": {
            "get": op(
                "The enforced policy as CSV (loadable with `governance policy load`)",
                {"description": "CSV", "content": {"text/csv": {}}},
            ),
        },
    },
    {
        "User": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "email": {"type": "string", "format": "email"},
                "roles": ROLES,
                "state": {"enum": ["active", "disabled"]},
                "mfa_enrolled": {"type": "boolean"},
                "locked_until": STAMP,
                "last_login_at": STAMP,
                "created_at": STAMP,
            },
        },
        "UserList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref("User")}},
        },
        "UserInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["email", "roles", "password"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "roles": ROLES,
                "password": {"type": "string", "minLength": 12},
            },
        },
        "UserPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"roles": ROLES, "state": {"enum": ["active", "disabled"]}},
        },
        "ServiceAccount": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "roles": ROLES,
                "state": {"enum": ["active", "disabled"]},
                "created_at": STAMP,
                "tokens": {"type": "array", "items": TOKEN_META},
            },
        },
        "ServiceAccountList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": ref("ServiceAccount")}},
        },
        "ServiceAccountInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "roles"],
            "properties": {"name": {"type": "string", "maxLength": 128}, "roles": ROLES},
        },
        "TokenInput": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"expires_days": {"type": "integer", "minimum": 1, "maximum": 3650}},
        },
        "TokenCreated": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "account_id": {"type": "string"},
                "token": {"type": "string", "description": "gov_<id>_<secret>"},
            },
        },
    },
)
