"""WTForms' own messages come from the portal's catalogue (``portal.forms``): Latvian on a
Latvian page, with Latvian plural forms, including the length limits of text fields."""
from __future__ import annotations

import pytest
from flask_babel import force_locale
from wtforms import StringField
from wtforms.validators import Length

from portal.forms import FlaskForm


class _Limited(FlaskForm):
    class Meta:
        csrf = False

    short = StringField(validators=[Length(max=10)])
    long_enough = StringField(validators=[Length(min=21)])
    exact = StringField(validators=[Length(min=5, max=5)])


@pytest.mark.parametrize(("locale", "expected"), [
    ("lv", ["ne vairāk kā 10 rakstzīmju", "vismaz 21 rakstzīmei", "tieši 5 rakstzīmēm"]),
    ("en", ["longer than 10 characters", "at least 21 characters", "exactly 5 characters"]),
])
def test_length_limits_speak_the_page_language(app, locale, expected):
    with app.test_request_context("/", method="POST",
                                  data={"short": "x" * 11, "long_enough": "y", "exact": "z"}), \
            force_locale(locale):
        form = _Limited()
        assert not form.validate()
        messages = [form.short.errors[0], form.long_enough.errors[0], form.exact.errors[0]]
    for message, part in zip(messages, expected, strict=True):
        assert part in message, messages
