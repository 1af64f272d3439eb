"""Translated text in templates is text, never markup.

Jinja's own "new style" gettext marks every translation as safe HTML, so a Latvian translation
that contains a quotation mark ends an attribute it is placed in (``data-ready="…"``) and the
rest of the sentence is lost. No message of the portal carries HTML, so translations are escaped
like any other value; the variables interpolated into them are escaped as well.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import escape


def _as_text(context: Context, translated: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        return escape(translated) % variables
    return translated % variables


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    return _as_text(context, get_translations().ugettext(message), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _as_text(context, get_translations().ungettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, ctx: str, message: str, **variables: Any) -> str:
    return _as_text(context, get_translations().upgettext(ctx, message), variables)


@pass_context
def _npgettext(context: Context, ctx: str, singular: str, plural: str, num: int,
               **variables: Any) -> str:
    variables.setdefault("num", num)
    return _as_text(context, get_translations().unpgettext(ctx, singular, plural, num), variables)


def init_app(app: Flask) -> None:
    """Install the escaping gettext functions (after Flask-Babel has installed its own)."""
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext,
        count_forms=count_forms,
    )
    app.jinja_env.filters["person"] = person_name


def person_name(label: str | None) -> str:
    """A person's name from an audit label ("Anna Bērziņa <anna@…>" or "… <user#8>"): the
    address or the account number is for the record, the page shows the name."""
    return (label or "").split(" <", 1)[0]


# The counts a table of forms covers: every plural rule of the portal's languages depends only
# on n % 10, n % 100 and n below 100, so n >= 200 takes the form of 100 + n % 100.
COUNT_TABLE_SIZE = 200


def count_forms(singular: str, plural: str) -> str:
    """A count message for the browser to write (``portal/static/js/counts.js``), as JSON:
    ``forms``, its texts in the request's language (``%(num)s`` for the count), and ``of``, one
    digit per n from 0 to 199 naming the form the catalogue's own plural rule picks: the page
    writes "0 kontrolpunktu", "1 kontrolpunkts", "2 kontrolpunkti" exactly as the server would."""
    translations = get_translations()
    forms: list[str] = []
    of = []
    for n in range(COUNT_TABLE_SIZE):
        text = translations.ungettext(singular, plural, n)
        if text not in forms:
            forms.append(text)
        of.append(str(forms.index(text)))
    return json.dumps({"forms": forms, "of": "".join(of)}, ensure_ascii=False)
