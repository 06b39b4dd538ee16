"""Console forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.core import Field
from wtforms.validators import DataRequired, Length

from governance.errors import GovernanceError


def show_errors(
    form: FlaskForm, exc: GovernanceError, rename: dict[str, str] | None = None
) -> None:
    """Put a service's refusal beside the fields it names (``rename`` maps a service field to
    the form's, e.g. ``password`` to ``new``); anything else goes above the form."""
    attached = False
    for error in exc.errors or []:
        name = (rename or {}).get(error["field"], error["field"])
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, error["message"]]
            attached = True
    if not attached:
        form.form_errors.append(exc.detail)


def entered(field: Field) -> str:
    """A text field's value; "" when absent (a DataRequired field is never empty once valid)."""
    return str(field.data or "")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class UserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=256)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (for buttons that POST)."""


class RevealForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=200)])
