"""Sign-in forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from portal.forms import FlaskForm


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class TwoFactorForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app, or a recovery code"),
                       validators=[DataRequired(), Length(min=6, max=12)])


class EnrolTwoFactorForm(FlaskForm):
    code = StringField(_l("Six-digit code shown by the app"),
                       validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$",
                                                          message=_l("Enter the six digits."))])


class VoterStartForm(FlaskForm):
    personal_code = StringField(_l("Personal code"),
                                validators=[DataRequired(), Length(min=11, max=13)])


class VoterCodeForm(FlaskForm):
    code = StringField(_l("Code you received"),
                       validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$",
                                                          message=_l("Enter the six digits."))])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=12, max=200)])


class CreateUserForm(FlaskForm):
    """No password: the person sets their own through the invitation link."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])


class AcceptInvitationForm(FlaskForm):
    password = PasswordField(_l("Choose a password"),
                             validators=[DataRequired(), Length(min=12, max=200)])
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    code = StringField(_l("Six-digit code shown by the app"),
                       validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$",
                                                          message=_l("Enter the six digits."))])


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    commission_id = SelectField(_l("Commission"), validators=[Optional()], coerce=str)
    municipality_id = SelectField(_l("Municipality (observers)"), validators=[Optional()], coerce=str)
