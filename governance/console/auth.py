"""Sign-in, TOTP enrolment and verification, recovery codes, password change, sign-out.

The session is cleared and given a fresh random ``sid`` at every sign-in step (no session
fixation); the login completes only after the second factor.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user
from werkzeug.exceptions import HTTPException

from governance.bootstrap import deps
from governance.console import bp
from governance.console.forms import (
    CodeForm,
    LoginForm,
    PasswordChangeForm,
    ReauthForm,
    entered,
    show_errors,
)
from governance.context import Actor, Call
from governance.errors import GovernanceError, Unauthenticated
from governance.extensions import db
from governance.models import User
from governance.services.identity import people as identity
from governance.services.identity.sessions import end_session, start_session
from governance.web.edge import current_call
from governance.web.guard import SessionUser
from governance.web.reauth import require_recent_auth, take_pending


def _safe_next(target: str | None) -> str:
    """Where to go after sign-in or re-auth: ``target`` if it is a page of this server.

    Browsers drop tabs and line breaks from a ``Location`` and read ``\\`` as ``/``, so
    ``/\t/evil.example`` would leave the site; a line break would even break the header. Only
    a plain path (optionally with a query) that the URL map serves to a GET is kept, else the
    dashboard.
    """
    if not target or _UNSAFE.search(target):
        return url_for("console.index")
    parts = urlsplit(target)
    path = parts.path
    if parts.scheme or parts.netloc or parts.fragment or not path.startswith("/"):
        return url_for("console.index")
    if path.startswith("//") or not _served(unquote(path)):
        return url_for("console.index")
    return path + (f"?{parts.query}" if parts.query else "")


# Control characters, any whitespace (Unicode too) and backslashes: never in a path we serve.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\xa0\\\s\u2000-\u200f\u2028-\u202f\ufeff]")


def _served(path: str) -> bool:
    """True if a GET of ``path`` reaches a view (no 404, 405 or redirect)."""
    if _UNSAFE.search(path) or path.startswith("//"):  # after percent-decoding too
        return False
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except HTTPException:  # NotFound, MethodNotAllowed, RequestRedirect
        return False
    return True


def _fresh_session(**values: Any) -> None:
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    session.update(values)


def _epoch() -> float:
    """The app's clock (``Deps.clock``, which the guard reads too) in seconds since the epoch."""
    return deps(current_app).clock().timestamp()


def _pending_user() -> User | None:
    user_id = session.get("pending_user")
    if not user_id or _epoch() - session.get("pending_at", 0) > 300:
        return None
    return identity.active_user(current_call(), user_id)


def _server_session(user: User) -> str:
    """A new server-side session for ``user`` (committed); its secret id goes in the cookie."""
    idle = timedelta(minutes=current_app.config["SESSION_MINUTES"])
    sid = start_session(db.session(), user.id, deps(current_app).clock(), idle)
    return sid


def _complete_login(user: User) -> Any:
    nxt = session.get("next")
    sid = _server_session(user)
    _fresh_session(mfa_ok=True, seen=int(_epoch()), auth_at=int(_epoch()))
    session["sid"] = sid  # the cookie holds no part of the password hash, only this id
    login_user(SessionUser(user))
    return redirect(_safe_next(nxt))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        call = current_call()
        try:
            user = identity.password_login(call, entered(form.email), entered(form.password))
        except GovernanceError as exc:
            flash(exc.title if exc.status == 429 else "Wrong email or password.", "error")
            return render_template("login.html", form=form), exc.status
        _fresh_session(
            pending_user=user.id, pending_at=_epoch(), next=_safe_next(request.args.get("next"))
        )
        if not identity.mfa_required(user):
            return _complete_login(user)
        return redirect(url_for("console.login_mfa"))
    return render_template("login.html", form=form)


@bp.route("/login/mfa", methods=["GET", "POST"])
def login_mfa() -> Any:
    user = _pending_user()
    if user is None:
        flash("Please sign in again.", "info")
        return redirect(url_for("console.login"))
    call = current_call().as_actor(
        Actor(
            id=user.id,
            type="user",
            roles=tuple(user.roles),
            request_id=g.request_id,
            client=request.remote_addr,
            name=user.email,
        )
    )
    form = CodeForm()
    if not user.totp_enrolled:
        return _enrol(call, user, form)
    if form.validate_on_submit():
        try:
            identity.verify_second_factor(call, user, entered(form.code))
        except GovernanceError as exc:
            flash(exc.title if exc.status == 429 else "That code is not valid.", "error")
            return render_template("mfa.html", form=form), exc.status
        return _complete_login(user)
    return render_template("mfa.html", form=form)


def _enrol(call: Any, user: User, form: CodeForm) -> Any:
    if form.validate_on_submit() and session.get("enrolling"):
        try:
            codes = identity.confirm_enrolment(call, user, entered(form.code))
        except GovernanceError:
            flash("That code does not match; scan the QR code again and retry.", "error")
        else:
            response = _complete_login(user)
            return render_template("recovery_codes.html", codes=codes, next=response.location), 200
    enrolment = identity.begin_enrolment(call, user)
    session["enrolling"] = True
    return render_template("enrol.html", form=CodeForm(formdata=None), enrolment=enrolment)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    """Sign out: a POST from the page's form (CSRF-checked, so another site cannot sign you
    out); a GET only shows the button."""
    if request.method == "GET":
        return render_template("logout.html")
    end_session(db.session(), session.get("sid"))  # a copy of the cookie is worth nothing now
    session.clear()
    flash("You are signed out.", "ok")
    return redirect(url_for("console.login"))


def _signed_in_user(call: Call) -> User:
    """The signed-in person's row; one deleted since the guard ran means signing in again."""
    user = db.session.get(User, call.actor.id)
    if user is None:
        raise Unauthenticated("sign in again")
    return user


@bp.route("/account", methods=["GET", "POST"])
def account() -> Any:
    call = current_call()
    user = _signed_in_user(call)
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            identity.change_password(call, user, entered(form.current), entered(form.new))
        except GovernanceError as exc:  # beside the field it concerns, on the same form
            if exc.status == 401:
                form.current.errors = [*form.current.errors, _("The current password is wrong.")]
            else:
                show_errors(form, exc, rename={"password": "new"})
            return render_template("account.html", form=form, user=user), exc.status
        session["sid"] = _server_session(user)  # every session ended; this browser gets a new one
        flash("Password changed.", "ok")
        return redirect(url_for("console.account"))
    return render_template("account.html", form=form, user=user)


@bp.post("/account/language", endpoint="account_language")
def account_language() -> Any:
    """Save the person's console language (empty: follow the browser's Accept-Language)."""
    call = current_call()
    user = _signed_in_user(call)
    identity.set_locale(call, user, request.form.get("locale") or None)
    g.locale_setting = user.locale or ""
    from flask_babel import refresh

    refresh()  # this answer's flash is already in the new language
    flash(_("Language saved."), "ok")
    return redirect(url_for("console.account"))


@bp.route("/account/recovery-codes", methods=["POST"])
def recovery_codes() -> Any:
    require_recent_auth()
    call = current_call()
    user = _signed_in_user(call)
    codes = identity.regenerate_recovery_codes(call, user)
    return render_template("recovery_codes.html", codes=codes, next=url_for("console.account"))


@bp.route("/reauth", methods=["GET", "POST"])
def reauth() -> Any:
    form = ReauthForm()
    call = current_call()
    user = _signed_in_user(call)
    if form.validate_on_submit():
        try:
            identity.password_login(call, user.email, entered(form.password))
        except GovernanceError:
            flash("Wrong password.", "error")
            return render_template("reauth.html", form=form), 401
        session["auth_at"] = int(_epoch())
        pending = take_pending()
        if pending and pending["path"] == request.args.get("next"):
            # The action the password check interrupted: posted again, with a fresh CSRF token,
            # to the path it was posted to (sealed by this server; a POST-only route too).
            return render_template("resume.html", action=pending["path"], fields=pending["fields"])
        target = _safe_next(request.args.get("next"))
        flash(_("Password confirmed; you can repeat the action now."), "ok")
        return redirect(target)
    return render_template("reauth.html", form=form)
