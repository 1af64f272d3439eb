"""Register forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.forms import FlaskForm


class ImportForm(FlaskForm):
    source = SelectField(_l("Register"), choices=[
        ("population", _l("Population Register (people)")),
        ("land", _l("Land Register (real estate owners)")),
    ], validators=[DataRequired()])
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[DataRequired()])
    file_format = SelectField(_l("File format"), choices=[
        ("csv", "CSV"), ("json", _l("JSON (array or one object per line)"))],
        validators=[DataRequired()])
    mode = RadioField(_l("When a row is malformed"), choices=[
        ("continue", _l("skip it and import the rest")),
        ("abort", _l("import nothing")),
    ], default="continue", validators=[DataRequired()])
    upload = FileField(_l("Extract file"), validators=[FileRequired()])


class LookupForm(FlaskForm):
    case_id = SelectField(_l("Referendum"), coerce=int, validators=[DataRequired()])
    personal_code = StringField(_l("Personal code"),
                                validators=[DataRequired(), Length(min=11, max=13)])
