"""The portal's form base: WTForms' own messages ("This field is required.") come from the
portal's catalogue, so they are Latvian on Latvian pages (WTForms ships no Latvian)."""
from __future__ import annotations

from typing import Any

import flask_wtf
from flask_babel import get_translations


class _Translations:
    """The catalogue's raw lookups: WTForms fills in %(min)d, %(max)d itself, so nothing here
    may format the string (flask_babel.ngettext would, and fail on %(max)d)."""

    def gettext(self, string: str) -> str:
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(flask_wtf.FlaskForm.Meta):
        def get_translations(self, form: Any) -> _Translations:
            return _Translations()
