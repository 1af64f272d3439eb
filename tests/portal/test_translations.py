"""Every string marked for translation has a Latvian text (Latvian is the default language)."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.i18n_build import merged_catalog

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2)}


def _marked_strings() -> dict[tuple[str, str | None], str]:
    """(msgid, msgctxt) of every marked string, and where it is marked first."""
    found: dict[tuple[str, str | None], str] = {}
    for directory in ("portal", "templates"):
        for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / directory, method_map=[(p.split("/", 1)[1], m) for p, m in METHOD_MAP
                                          if p.startswith(directory)],
            keywords=KEYWORDS,
        ):
            # A count message (ngettext) is catalogued under its singular, its forms with it.
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault((msgid, context), f"{directory}/{filename}:{lineno}")
    return found


def test_every_marked_string_has_a_latvian_translation():
    catalog = merged_catalog("lv")
    missing = {key: where for key, where in _marked_strings().items()
               if catalog.get(key[0], context=key[1]) is None
               or not catalog.get(key[0], context=key[1]).string}
    listing = "\n".join(f"{where}: {msgid!r}" for msgid, where in sorted(missing.items(),
                                                                          key=lambda kv: kv[1]))
    assert not missing, f"{len(missing)} strings lack a Latvian text in portal/translations/lv/parts/:\n{listing}"


# One name for one thing: the Latvian name on the left, the variants that must not appear.
ONE_NAME = {"balsošana dzīvesvietā": ("atrašanās vietā", "mājās", "mājas balsošan",
                                      "balsošana mājā"),
            "vēlēšanu zīme": ("biļeten",)}


def test_one_thing_has_one_latvian_name():
    texts = [m.string if isinstance(m.string, str) else " ".join(m.string)
             for m in merged_catalog("lv") if m.id]
    texts += [p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "guide").glob("*.md")]
    # Latvian written into the domain's own records (case titles and the like).
    texts += [p.read_text(encoding="utf-8").lower() for p in (ROOT / "referendum_core").rglob("*.py")]
    for name, variants in ONE_NAME.items():
        for variant in variants:
            found = [t for t in texts if variant in t.lower()]
            assert found == [], f"say {name!r}, not {variant!r}: {found[:3]}"


# Inside a Latvian text: HTML tags (their attributes keep straight quotes) and format
# placeholders are code, not text.
_CODE = re.compile(r"<[^>]*>|%\([^)]*\)[sdif]|\{[^{}]*\}")


def _latvian_texts() -> list[tuple[str, str, str]]:
    """(part file, msgid, one Latvian form) for every message of every part."""
    found = []
    for part in sorted((ROOT / "portal" / "translations" / "lv" / "parts").glob("*.po")):
        with part.open("rb") as handle:
            catalog = read_po(handle, locale="lv")
        for message in catalog:
            if not message.id:
                continue
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            forms = message.string if isinstance(message.string, tuple | list) else [
                message.string]
            found += [(part.name, msgid, form) for form in forms if form]
    return found


def test_latvian_texts_quote_with_latvian_quotation_marks():
    """Latvian typography quotes „so”: no straight double quote in a user-visible Latvian text
    (HTML attributes and placeholders inside the text aside)."""
    texts = _latvian_texts()
    assert len(texts) > 1000
    straight = [(part, msgid[:50], form) for part, msgid, form in texts
                if '"' in _CODE.sub("", form)]
    assert straight == [], straight[:5]
    assert _CODE.sub("", 'Skatīt <a href="/x">„%(name)s” lapu</a>') == "Skatīt „” lapu"
    assert any("„par”" in form for _part, _msgid, form in texts)
