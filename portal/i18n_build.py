"""Compile the Latvian (and English) catalogues from their parts.

Each area of the portal keeps its Latvian translations in ``portal/translations/lv/parts/*.po``
so several people can add strings without editing one shared file. ``make`` merges the parts
into ``messages.mo``; ``tests/portal/test_translations.py`` checks that every string the code
marks for translation has a Latvian text.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent / "translations"


def merged_catalog(locale: str) -> Catalog:
    """All parts of one locale merged into one catalogue (later parts do not override)."""
    merged = Catalog(locale=locale, domain="messages")
    for part in sorted((ROOT / locale / "parts").glob("*.po")):
        with part.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            # One entry per (context, id): a msgctxt entry never hides nor is hidden by the
            # same id without context (``msgid in catalog`` ignores the context).
            if message.id and message.string and merged.get(
                    message.id, context=message.context) is None:
                merged.add(message.id, message.string, context=message.context)
    return merged


def build() -> int:
    total = 0
    for locale_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        locale = locale_dir.name
        catalog = merged_catalog(locale)
        out = locale_dir / "LC_MESSAGES" / "messages.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed over: a process loading the catalogue meanwhile (a test
        # worker, a running portal) reads the old file or the new one, never half of one.
        with tempfile.NamedTemporaryFile("wb", dir=out.parent, prefix=".messages-",
                                         suffix=".mo", delete=False) as handle:
            write_mo(handle, catalog)
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, out)
        total += len(catalog)
    return total


if __name__ == "__main__":
    count = build()
    print(f"compiled {count} translations", file=sys.stderr)
