"""Changing a customer from the console: edit (a merge patch of the fields typed; masked values
are never sent back) and erase (crypto-shredding, with a password re-check that resumes the
action, and the reference of the request it answers, free text until requests have a register).

Both call the same store functions as ``PATCH`` and ``DELETE /api/v1/customers/:id``, which
audit them in the same transaction.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Optional

from governance.console import bp
from governance.console.forms import entered, show_errors
from governance.context import Purpose
from governance.database import release_deleted_pages
from governance.errors import ValidationError
from governance.extensions import db
from governance.services.customers import reads
from governance.services.customers import store as customers
from governance.web.edge import count_customer_lookup, current_call
from governance.web.reauth import require_recent_auth
from governance.web.transaction import after_commit

EDITABLE = ("full_name", "email", "phone", "country", "language")


class EditForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    country = StringField(_l("Country (ISO 3166 code)"), validators=[Optional(), Length(max=2)])
    language = StringField(_l("Language (BCP 47 tag)"), validators=[Optional(), Length(max=35)])


class EraseForm(FlaskForm):
    request_ref = StringField(
        _l("Request reference"), validators=[DataRequired(), Length(min=3, max=200)]
    )
    confirm = BooleanField(
        _l("I understand this erases the customer for good (the data key is destroyed)"),
        validators=[DataRequired()],
    )


@bp.route("/customers/<customer_id>/edit", methods=["GET", "POST"], endpoint="customer_edit")
def customer_edit(customer_id: str) -> Any:
    """Type only what changes: an empty field keeps its value (shown masked as a hint); the
    read declares the purpose ``account_management`` (keeping the record correct)."""
    call = current_call(Purpose.named("account_management", field="purpose"))
    current = reads.read_customer(call, customer_id)
    form = EditForm()
    if form.validate_on_submit():
        patch = {name: entered(form[name]).strip() for name in EDITABLE if entered(form[name])}
        if not patch:
            form.form_errors.append(_("Type a new value in at least one field."))
        else:
            try:
                count_customer_lookup(patch)
                customers.update_customer(call, customer_id, patch)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                flash(_("Customer updated: %(fields)s.", fields=", ".join(sorted(patch))), "ok")
                return redirect(url_for("console.customer", customer_id=customer_id))
    status = 422 if request.method == "POST" else 200
    return render_template("customer_edit.html", c=current, form=form, editable=EDITABLE), status


@bp.route("/customers/<customer_id>/erase", methods=["GET", "POST"], endpoint="customer_erase")
def customer_erase(customer_id: str) -> Any:
    """Erase after a recent password entry; the request reference is recorded with it."""
    call = current_call()
    form = EraseForm()
    if form.validate_on_submit():
        require_recent_auth()  # resumes this very form once the password is confirmed
        customers.erase_customer(call, customer_id, entered(form.request_ref))
        after_commit(lambda: release_deleted_pages(db.engine))
        flash(_("Customer erased: the data key is destroyed; a tombstone keeps the id."), "ok")
        return redirect(url_for("console.customers"))
    customers.load(call, customer_id)  # 404 (or 410) before showing the form
    status = 422 if request.method == "POST" else 200
    return render_template("customer_erase.html", customer_id=customer_id, form=form), status
