"""Case forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.cases.labels import APPLICANTS, CATEGORIES, GROUNDS, SEVERITIES
from portal.forms import FlaskForm
from portal.realtime import as_id


def _choices(table: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(key, value) for key, value in table.items()]


def _unchosen(table: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """The choices after an empty first one ("— choose —"): nothing is chosen for the person."""
    return [("", _l("— choose —")), *_choices(table)]


def _optional_id(value: object) -> int | None:
    """A chosen id, or ``None`` for nothing or junk (``realtime.as_id``: out of a database
    id's range is junk too)."""
    return as_id(str(value)) if value is not None else None


class ObserverReportForm(FlaskForm):
    # Stations are offered from the observer's accreditation, but any number is accepted here
    # so that the accreditation rule itself answers (and is audited) when it does not fit.
    polling_station_id = SelectField(_l("Polling station"), coerce=_optional_id,
                                     validate_choice=False,
                                     validators=[InputRequired()])
    # Asked only when several referendums are open to the observer (``access.report_options``).
    referendum_id = SelectField(_l("Referendum"), coerce=_optional_id, validate_choice=False,
                                validators=[Optional()])
    # Both start empty and must be chosen: a preselected category or severity is filed as is
    # by a hurried observer, and then the report reaches the commission under the wrong name.
    category = SelectField(_l("What is it about?"), choices=_unchosen(CATEGORIES),
                           validators=[DataRequired(_l("Choose what the report is about."))])
    severity = SelectField(_l("How serious is it?"), choices=_unchosen(SEVERITIES),
                           validators=[DataRequired(_l("Choose how serious it is."))])
    description = TextAreaField(_l("What did you see?"),
                                validators=[DataRequired(), Length(max=10_000)])
    photos = MultipleFileField(_l("Photos (optional)"))
    # Photos kept from an earlier try of this form (portal.cases.photo_stash).
    kept_photos = HiddenField()
    started = HiddenField()

    def validate_referendum_id(self, field: SelectField) -> None:
        if field.data is None and any(field.raw_data or ()):
            raise ValidationError(_l("Choose a referendum from the list."))

    def validate_polling_station_id(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose a polling station from the list."))


class ComplaintForm(FlaskForm):
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[InputRequired()])
    grounds = SelectField(_l("What do you contest?"), choices=_choices(GROUNDS),
                          validators=[DataRequired()])
    applicant_kind = SelectField(_l("You are a"), choices=_choices(APPLICANTS),
                                 validators=[DataRequired()])
    contested = StringField(_l("The decision or protocol (title, number)"),
                            validators=[DataRequired(), Length(max=300)])
    contested_on = DateField(_l("Date of the decision or protocol"),
                             validators=[DataRequired()])
    summary = TextAreaField(_l("Why it is wrong and what you ask for"),
                            validators=[DataRequired(), Length(max=10_000)])
    started = HiddenField()


class QueryForm(FlaskForm):
    municipality_id = SelectField(_l("For the commission of"), coerce=int,
                                  validators=[InputRequired()])
    title = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    question = TextAreaField(_l("Question to CVK"),
                             validators=[DataRequired(), Length(max=10_000)])
    started = HiddenField()


class TransitionForm(FlaskForm):
    transition = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[InputRequired()])
    note = TextAreaField(_l("Note (shown on the timeline)"), validators=[Length(max=10_000)])


class CommentForm(FlaskForm):
    text = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=10_000)])


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assign to"), coerce=int, validate_choice=False,
                              validators=[InputRequired()])
    version = IntegerField(validators=[InputRequired()])


class DeadlineForm(FlaskForm):
    deadline = DateTimeLocalField(_l("New deadline (Riga time)"), format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired()])
    reason = TextAreaField(_l("Why it changes (shown on the timeline)"),
                           validators=[DataRequired(), Length(max=10_000)])


class PhotoForm(FlaskForm):
    photo = FileField(_l("Add a photo"), validators=[DataRequired()])


class SaveFilterForm(FlaskForm):
    name = StringField(_l("Name for this filter"), validators=[DataRequired(), Length(max=80)])
    query = HiddenField(validators=[Optional(), Length(max=1000)])


class IssueTokenForm(FlaskForm):
    name = StringField(_l("Name of the system using it"),
                       validators=[DataRequired(), Length(max=100)])
    owner_email = StringField(_l("Acts as (e-mail address of the account)"),
                              validators=[DataRequired(), Length(max=254)])
    scopes = SelectMultipleField(_l("Allowed"), choices=[
        ("cases:read", _l("Read cases")), ("cases:write", _l("Create and change cases"))],
        default=["cases:read"], option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class RevokeTokenForm(FlaskForm):
    """Only the CSRF token: the token to revoke is in the URL."""
