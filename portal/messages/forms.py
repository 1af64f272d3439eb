"""Forms of the messaging pages (plain HTML forms: everything works without JavaScript)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.forms import FlaskForm


class NewThreadForm(FlaskForm):
    recipient = SelectField(_l("To"), validators=[DataRequired()])
    recipient_email = StringField(_l("Person's e-mail address (when writing to a person)"),
                                  validators=[Optional(), Email(), Length(max=254)])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])
    attachment = FileField(_l("Attachment (optional)"))


class PostForm(FlaskForm):
    text = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=20000)])
    reply_to = HiddenField()
    attachment = FileField(_l("Attachment (optional)"))


class EditForm(FlaskForm):
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])


class AddParticipantForm(FlaskForm):
    recipient = SelectField(_l("Add"), validators=[DataRequired()])
    recipient_email = StringField(_l("Person's e-mail address (when adding a person)"),
                                  validators=[Optional(), Email(), Length(max=254)])


class ActionForm(FlaskForm):
    """A button-only form (CSRF token)."""
