"""Every string marked for translation has a Latvian text (Latvian is the default language)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from portal.i18n_build import merged_catalog

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _marked_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for directory in ("portal", "templates"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, method_map=[(p.split("/", 1)[1], m) for p, m in METHOD_MAP
                                          if p.startswith(directory)],
            keywords=KEYWORDS,
        ):
            # A count message (ngettext) is catalogued under its singular, its forms with it.
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{directory}/{filename}:{lineno}")
    return found


def test_every_marked_string_has_a_latvian_translation():
    catalog = merged_catalog("lv")
    missing = {msgid: where for msgid, where in _marked_strings().items()
               if catalog.get(msgid) is None or not catalog.get(msgid).string}
    listing = "\n".join(f"{where}: {msgid!r}" for msgid, where in sorted(missing.items(),
                                                                          key=lambda kv: kv[1]))
    assert not missing, f"{len(missing)} strings lack a Latvian text in portal/translations/lv/parts/:\n{listing}"


# One name for one thing: the Latvian name on the left, the variants that must not appear.
ONE_NAME = {"balsošana dzīvesvietā": ("atrašanās vietā", "mājās", "mājas balsošan",
                                      "balsošana mājā")}


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
