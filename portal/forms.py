"""The portal's form base: WTForms' own messages ("This field is required.") come from the
portal's catalogue, so they are Latvian on Latvian pages (WTForms ships no Latvian)."""
from __future__ import annotations

from typing import Any

import flask_wtf
from flask_babel import gettext, ngettext


class _Translations:
    def gettext(self, string: str) -> str:
        return gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(flask_wtf.FlaskForm.Meta):
        def get_translations(self, form: Any) -> _Translations:
            return _Translations()
