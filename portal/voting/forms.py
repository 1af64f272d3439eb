"""Forms of the voting pages (Flask-WTF: every POST carries the CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import FlaskForm

SUBJECTS = [
    ("strategy", _l("Sustainable development strategy or its amendments")),
    ("construction", _l("A new public building or an object needing an environmental impact "
                        "assessment")),
    ("dismissal", _l("Dismissal of the council")),
]


class CaseSetupForm(FlaskForm):
    """Set-up of a referendum case: subject and question come from its initiative."""

    question_en = TextAreaField(_l("Question in English"),
                                validators=[DataRequired(), Length(max=2000)])
    referendum_day = DateField(_l("Referendum day (a Saturday)"), validators=[DataRequired()])


class SetupForm(CaseSetupForm):
    """A referendum the council decided itself (Art. 8(2)): its decision is recorded."""

    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[DataRequired()])
    subject = SelectField(_l("Subject (Art. 5)"), choices=SUBJECTS[:2],
                          validators=[DataRequired()])
    basis_date = DateField(_l("Date the strategy was approved or the decision was published"),
                           validators=[DataRequired()])
    question_lv = TextAreaField(_l("Question in Latvian"),
                                validators=[DataRequired(), Length(max=500)])
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(), Length(max=10000)])
    council_decided_on = DateField(_l("Date of the council's decision"),
                                   validators=[DataRequired()])
    council_decision_number = StringField(_l("Number of the council's decision"),
                                          validators=[DataRequired(), Length(max=40)])
    council_votes_for = IntegerField(_l("Councillors who voted for"),
                                     validators=[InputRequired(), NumberRange(min=0, max=200)])
    council_size = IntegerField(_l("All councillors (elected members of the council)"),
                                validators=[InputRequired(), NumberRange(min=1, max=200)])


class TrusteesForm(FlaskForm):
    # Checkboxes (a fieldset, its legend this label), not a multi-select needing Ctrl-click.
    trustees = SelectMultipleField(_l("Trustees (members of the internet polling-station "
                                      "commission)"), coerce=int, validators=[DataRequired()],
                                   option_widget=CheckboxInput(),
                                   widget=ListWidget(prefix_label=False))


class ThresholdForm(FlaskForm):
    threshold = IntegerField(_l("Threshold: how many of the trustees are needed to decrypt"),
                             validators=[InputRequired(), NumberRange(min=1, max=100)])
    commit_by = DateTimeLocalField(_l("Deadline of round 1, commit (Riga time)"),
                                   format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    reveal_by = DateTimeLocalField(_l("Deadline of round 2, reveal (Riga time)"),
                                   format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    shares_by = DateTimeLocalField(_l("Deadline of round 3, shares (Riga time)"),
                                   format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    check_by = DateTimeLocalField(_l("Deadline of round 4, check and complaints (Riga time)"),
                                  format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Deadline of round 5, answers: the key generation ends "
                                    "(Riga time)"),
                                 format="%Y-%m-%dT%H:%M", validators=[InputRequired()])

    #: The form's field of each round's deadline.
    ROUND_FIELDS = {"commit": "commit_by", "reveal": "reveal_by", "shares": "shares_by",
                    "complaints": "check_by", "answers": "ends_at"}


class DkgMessageForm(FlaskForm):
    message_json = TextAreaField(_l("Key-generation message (the JSON file written by "
                                    "referendum-trustee dkg)"),
                                 validators=[Optional(), Length(max=200000)])
    upload = FileField(_l("…or the file"))


class ActionForm(FlaskForm):
    """A button that changes the referendum's stage (open, close, reconcile, approve)."""


class StationForm(FlaskForm):
    station_id = SelectField(_l("Polling station"), coerce=int, validators=[DataRequired()])
    personal_code = StringField(_l("Personal code"),
                                validators=[DataRequired(), Length(min=11, max=13)])
    envelope_mode = BooleanField(_l("The voter register (ETVR) is unreachable: record the vote "
                                    "on a registration envelope"))
    action = SelectField(choices=[("lookup", "lookup"), ("mark", "mark")], default="lookup",
                         validators=[DataRequired()])
    # The personal code a lookup found, encrypted for the page's own "mark as voted" step, so
    # that the code itself is never echoed back into the page.
    sealed = HiddenField()


class KeyForm(FlaskForm):
    public_json = TextAreaField(_l("Public key (the JSON printed by referendum-trustee keygen)"),
                                validators=[Optional(), Length(max=20000)])
    upload = FileField(_l("…or the JSON file"))


class ShareForm(FlaskForm):
    partial_json = TextAreaField(_l("Partial decryption (the JSON file written by "
                                    "referendum-trustee decrypt)"),
                                 validators=[Optional(), Length(max=200000)])
    upload = FileField(_l("…or the file"))


def _count(label: str) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])


class ProtocolForm(FlaskForm):
    station_id = SelectField(_l("Polling station"), coerce=int, validators=[DataRequired()])
    ballots_issued = _count(_l("Ballots issued"))
    votes_for = _count(_l("Votes for (par)"))
    votes_against = _count(_l("Votes against (pret)"))
    invalid = _count(_l("Invalid ballots"))


class HomeVotingForm(FlaskForm):
    """A voter's written request for home voting (Art. 19)."""

    station_id = SelectField(_l("Polling station"), coerce=int, validators=[DataRequired()])
    address = StringField(_l("Address where the commission brings the ballot"),
                          validators=[DataRequired(), Length(max=300)])
    reason = TextAreaField(_l("Why you cannot come to the polling station"),
                           validators=[DataRequired(), Length(max=2000)])


class HomeVotingEntryForm(HomeVotingForm):
    """A commission member enters a voter's written request on the voter's behalf."""

    personal_code = StringField(_l("The voter's personal code"),
                                validators=[DataRequired(), Length(min=11, max=13)])


class HomeVotingDecisionForm(FlaskForm):
    """Accept, refuse (with a reason) or record the visit of a home-voting request."""

    note = TextAreaField(_l("Reason (needed to refuse)"),
                         validators=[Optional(), Length(max=2000)])
