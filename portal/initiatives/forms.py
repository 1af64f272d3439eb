"""Initiative forms (Flask-WTF, CSRF on every form)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import FlaskForm


class SubmitInitiativeForm(FlaskForm):
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[DataRequired()])
    subject = SelectField(_l("Subject"), choices=[
        ("strategy", _l("The municipality's sustainable development strategy")),
        ("construction", _l("A council decision on a new public building or construction")),
        ("dismissal", _l("Dismissal of the council")),
    ], validators=[DataRequired()])
    basis_date = DateField(_l("Date the strategy was approved or the decision was published"),
                           validators=[Optional()])
    question = StringField(_l("Question"), validators=[DataRequired(), Length(max=500)])
    reasons = TextAreaField(_l("Reasons"), validators=[DataRequired(), Length(max=10000)])


class DecideForm(FlaskForm):
    # No decision is preselected: the chair chooses one (an empty first option, required).
    decision = SelectField(_l("Decision"), choices=[
        ("", _l("— choose the decision —")),
        ("can", _l("The referendum can be held")),
        ("cannot", _l("The referendum cannot be held")),
    ], validators=[DataRequired()])
    question = StringField(_l("Question put to the vote (answered par / pret)"),
                           validators=[Optional(), Length(max=500)])
    note = TextAreaField(_l("Reasons for the decision"), validators=[Optional(),
                                                                     Length(max=10000)])
    version = HiddenField()


class InPersonSignatureForm(FlaskForm):
    personal_code = StringField(_l("Personal code of the signer"),
                                validators=[DataRequired(), Length(min=11, max=13)])
    certifier_type = SelectField(_l("Certified by"), choices=[
        ("notary", _l("Notary")),
        ("residence_office", _l("Residence declaration office")),
        ("orphans_court", _l("Orphans' court")),
        ("administration_head", _l("Head of the parish or town administration")),
    ], validators=[DataRequired()])
    certifier_name = StringField(_l("Name of the certifier"),
                                 validators=[DataRequired(), Length(max=200)])
    signed_on = DateField(_l("Date signed"), validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token."""
