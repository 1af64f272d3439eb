"""Forms of the observer pages (Flask-WTF: every POST carries the CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import FlaskForm
from portal.observers.texts import KINDS

RECORDED_KINDS = [(kind, KINDS[kind]) for kind in ("commission_member", "media", "cvk_member")]


class NominationForm(FlaskForm):
    """The initiators name an observer for a polling station (Art. 18(3))."""

    station_id = SelectField(_l("Polling station"), coerce=int, validators=[DataRequired()])
    full_name = StringField(_l("Observer's name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("Observer's e-mail address"),
                        validators=[DataRequired(), Length(max=254)])


class RecordForm(NominationForm):
    """The commission or CVK records a member or a journalist as an observer (Art. 18(3))."""

    kind = SelectField(_l("Observes as"), choices=RECORDED_KINDS, validators=[DataRequired()])
    organisation = StringField(_l("Organisation (media outlet, commission)"),
                               validators=[Optional(), Length(max=200)])


class DecisionForm(FlaskForm):
    """Accredit, or refuse with a reason."""

    note = TextAreaField(_l("Reason (needed to refuse)"), validators=[Optional(), Length(max=2000)])


class RevokeForm(FlaskForm):
    """Confirm revoking an observer's accreditation (the page names what follows)."""
