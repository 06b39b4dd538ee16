"""Console administration: people and their roles, service accounts and API tokens, the policy.

Who may open these pages is decided by ``policies/policy.csv`` like every other route (admin
manages; dpo and auditor may view and export the policy). Granting access (creating a user,
changing roles, re-enabling, resetting MFA, issuing or rotating a token, reloading the policy)
needs a password entry within ``GOVERNANCE_REAUTH_MINUTES`` (``require_recent_auth``); taking
access away (disabling, revoking) never does, so stopping an intruder is one click. The identity
and policy services audit every action; these views only parse forms, call them and render.
Giving an application a role that reads customer data, or a token of one, is refused here
(separation of duties, ``services/identity/service_accounts.py``): the operator's CLI does that.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from governance.console import bp
from governance.console.forms import entered, show_errors
from governance.errors import ValidationError
from governance.extensions import db
from governance.security.masking import default_visibility
from governance.services.identity import people as identity
from governance.services.identity import policy as policy_service
from governance.services.identity import service_accounts
from governance.web.edge import current_call, has_route
from governance.web.guard import authorizer
from governance.web.reauth import require_recent_auth
from governance.web.transaction import after_commit


def _roles_of_kind(kind: str) -> list[tuple[str, str]]:
    roles = default_visibility().roles
    return [(name, name) for name in sorted(roles) if roles[name].kind == kind]


class NewUserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])


class RolesForm(FlaskForm):
    roles = SelectMultipleField(
        _l("Roles"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )


class ServiceAccountForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    role = SelectField(_l("Role"), validators=[DataRequired()])


class TokenForm(FlaskForm):
    expires_days = IntegerField(
        _l("Expires after (days, empty for never)"), validators=[Optional(), NumberRange(1, 3650)]
    )


def _invalid(form: FlaskForm) -> ValidationError:
    errors = [
        {"field": name, "message": message}
        for name, messages in form.errors.items()
        if name != "csrf_token"
        for message in messages
    ]
    return ValidationError("the form has errors", errors)


@bp.route("/users", methods=["GET", "POST"], endpoint="users")
def users_page() -> Any:
    """Every person account; an admin creates one with its role and an initial password."""
    call = current_call()
    form = NewUserForm()
    form.role.choices = _roles_of_kind("person")
    if request.method == "POST" and form.validate():
        require_recent_auth()
        email, password = entered(form.email), entered(form.password)
        try:
            user = identity.create_user(call, email, [form.role.data], password)
        except ValidationError as exc:  # a weak password: back to the form, input kept
            show_errors(form, exc)
        else:
            flash(_("User created; they set up two-factor sign-in at their first sign-in."), "ok")
            return redirect(url_for("console.user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("users.html", users=identity.list_users(call), form=form), status


@bp.route("/users/<user_id>", methods=["GET", "POST"], endpoint="user")
def user_page(user_id: str) -> Any:
    """One account: roles, enable/disable, MFA reset."""
    call = current_call()
    user = identity.get_user(call, user_id)
    form = RolesForm()
    form.roles.choices = _roles_of_kind("person")
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "disable":
            identity.set_state(call, user.email, "disabled")
            message = "Account disabled; its sessions end at their next request."
        elif action == "enable":
            require_recent_auth()
            identity.set_state(call, user.email, "active")
            message = "Account enabled."
        elif action == "reset_mfa":
            require_recent_auth()
            identity.reset_mfa(call, user.email)
            message = "Two-factor reset; the user enrols again at the next sign-in."
        elif action == "roles":
            require_recent_auth()
            identity.set_roles(call, user.email, list(form.roles.data or []))
            message = "Roles changed."
        else:
            raise ValidationError("unknown action", [{"field": "action", "message": "unknown"}])
        flash(message, "ok")
        return redirect(url_for("console.user", user_id=user.id))
    form.roles.data = list(user.roles)
    own = call.actor.id == user.id
    return render_template("user.html", u=user, form=form, own=own)


@bp.route("/service-accounts", methods=["GET", "POST"], endpoint="service_accounts")
def service_accounts_page() -> Any:
    """Applications calling the API: their roles and token counts; create one."""
    call = current_call()
    form = ServiceAccountForm()
    form.role.choices = _roles_of_kind("service")
    if request.method == "POST":
        if not form.validate():
            raise _invalid(form)
        require_recent_auth()
        name = entered(form.name)
        account = service_accounts.create_service_account(call, name, [form.role.data])
        flash("Service account created; issue its first token below.", "ok")
        return redirect(url_for("console.service_account", account_id=account.id))
    accounts = service_accounts.list_service_accounts(call)
    tokens = {a.id: service_accounts.list_tokens(call, a.id) for a in accounts}
    return render_template("service_accounts.html", accounts=accounts, tokens=tokens, form=form)


@bp.route("/service-accounts/<account_id>", methods=["GET", "POST"], endpoint="service_account")
def service_account_page(account_id: str) -> Any:
    """One service account: issue (shown once), rotate and revoke tokens; disable the account."""
    call = current_call()
    account = service_accounts.get_service_account(call, account_id)
    form = TokenForm()
    if request.method == "POST":
        action = request.form.get("action", "")
        token_id = request.form.get("token_id", "")
        if action in ("issue", "rotate"):
            if not form.validate():
                raise _invalid(form)
            require_recent_auth()
            if action == "issue":
                token = service_accounts.create_token(call, account, form.expires_days.data)
            else:
                _own_token(call, account.id, token_id)
                token = service_accounts.rotate_token(call, token_id, form.expires_days.data)
            return render_template("token_created.html", account=account, token=token)
        if action == "revoke":
            _own_token(call, account.id, token_id)
            service_accounts.revoke_token(call, token_id)
            message = "Token revoked; it stops working at once."
        elif action in ("disable", "enable"):
            if action == "enable":
                require_recent_auth()
            state = "active" if action == "enable" else "disabled"
            service_accounts.set_service_account_state(call, account.id, state)
            message = f"Service account {action}d."
        else:
            raise ValidationError("unknown action", [{"field": "action", "message": "unknown"}])
        flash(message, "ok")
        return redirect(url_for("console.service_account", account_id=account.id))
    tokens = service_accounts.list_tokens(call, account.id)
    return render_template(
        "service_account.html", account=account, tokens=tokens, form=form, now=call.now()
    )


def _own_token(call: Any, account_id: str, token_id: str) -> None:
    """Tokens are managed from their own account's page only."""
    if token_id not in {t.id for t in service_accounts.list_tokens(call, account_id)}:
        raise ValidationError("unknown token", [{"field": "token_id", "message": "not found"}])


@bp.route("/policy", methods=["GET", "POST"], endpoint="policy")
def policy_page() -> Any:
    """The enforced policy by role, a "may ROLE call METHOD PATH?" check, and (admin) reload."""
    call = current_call()
    if request.method == "POST":
        require_recent_auth()
        count = policy_service.load(call)
        # this worker: at once, once the new rules are committed
        after_commit(lambda: current_app.extensions.pop("governance.authz", None))
        flash(
            f"Loaded {count} rules from policies/policy.csv; every worker applies them "
            "within seconds.",
            "ok",
        )
        return redirect(url_for("console.policy"))
    source, lines = policy_service.effective_policy(db.session())
    by_role: dict[str, list[tuple[str, ...]]] = {}
    for line in lines:
        by_role.setdefault(line[2] if line[0] == "g" else line[1], []).append(line)
    decision = None
    role = request.args.get("role", "")
    if role and request.args.get("path"):
        method = request.args.get("method", "GET").upper()[:8]
        path = request.args["path"][:300]
        routed = has_route(current_app, method, path)
        decision = policy_service.check(db.session(), [role], method, path, routed=routed)
    can_load = authorizer().allowed(frozenset(call.actor.roles), "/policy", "POST")
    return render_template(
        "policy.html",
        source=source,
        by_role=by_role,
        decision=decision,
        roles=sorted(default_visibility().known_roles),
        can_load=can_load,
    )


@bp.get("/policy/export", endpoint="policy_export")
def policy_export() -> Any:
    """The enforced policy as a CSV file that ``governance policy load`` accepts again."""
    text = policy_service.export_audited(current_call())
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="policy.csv"'
    return response


@bp.route("/keys", methods=["GET", "POST"], endpoint="keys")
def keys_page() -> Any:
    """KEK versions and the data keys each wraps; (admin) rotate the master key."""
    from governance.services.keys import rotation as key_service

    call = current_call()
    if request.method == "POST":
        require_recent_auth()  # rotation is a sensitive action
        job = key_service.rotate(call)
        flash(
            "Added a new key version; the data keys are re-wrapped by a worker "
            "(`governance worker`), or now with `governance keys rewrap`.",
            "ok",
        )
        return redirect(url_for("console.job_page", job_id=job.id))
    status = key_service.status(call)
    return render_template("keys.html", status=status)
