"""Translated strings are text in every template: a translation with quotation marks or an
angle bracket placed in an attribute keeps the attribute whole, in Latvian and in English."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string
from flask_babel import force_locale

from portal.i18n_build import merged_catalog


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Attributes:
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    return parser


def _plain_messages(locale: str) -> list[tuple[str, str]]:
    # A message with a context (msgctxt) is looked up with pgettext, not gettext.
    return [(m.id, m.string) for m in merged_catalog(locale)
            if isinstance(m.id, str) and m.id and m.string and "%" not in m.id
            and m.context is None]


def test_every_latvian_translation_survives_an_attribute_and_text(app):
    # Latvian texts quote with „…” now, but the case that used to break (a straight double
    # quote, and a single one, inside a translated text) stays among them.
    messages = [*_plain_messages("lv"), ("Izvēlieties \"par\" vai 'pret'",) * 2]
    template = '<p data-t="{{ _(m) }}" title=\'{{ _(m) }}\'>{{ _(m) }}</p>'
    with app.test_request_context("/"), force_locale("lv"):
        for message, latvian in messages:
            parsed = _parse(render_template_string(template, m=message))
            assert parsed.found == [{"data-t": latvian, "title": latvian}], message
            assert "".join(parsed.text) == latvian, message


@pytest.mark.parametrize("locale", ["lv", "en"])
def test_variables_and_plurals_are_escaped_too(app, locale):
    template = ('<p data-n="{{ ngettext("%(num)s case", "%(num)s cases", 2) }}" '
                'data-v="{{ _("Read by: %(names)s", names=who) }}"></p>')
    with app.test_request_context("/"), force_locale(locale):
        parsed = _parse(render_template_string(template, who='"Anna" <b>'))
    attrs = parsed.found[0]
    assert attrs["data-v"].endswith('"Anna" <b>')
    assert attrs["data-n"].startswith("2")
