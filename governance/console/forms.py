"""Console forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])


class PasswordChangeForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("New password", validators=[DataRequired(), Length(max=256)])


class ReauthForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class UserForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=[])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=256)])


class EmptyForm(FlaskForm):  # type: ignore[misc]
    """A form with only the CSRF token (for buttons that POST)."""


class RevealForm(FlaskForm):  # type: ignore[misc]
    reason = StringField("Reason", validators=[DataRequired(), Length(min=5, max=200)])
