"""Refusals of the upload check (``referendum_core.uploads``) as translated sentences: one
registry for every page that takes a file (messages, case photos, register import, key files)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

UPLOAD_REFUSALS = {
    "too_large": _l("The file is too large."),
    "empty": _l("The file is empty."),
    "type_not_allowed": _l("This type of file is not accepted here."),
    "type_mismatch": _l("The file's content does not match its name (for example, a renamed "
                        "file). Attach the real document."),
    "damaged": _l("The file is damaged or incomplete."),
    "zip_bomb": _l("The document unpacks to an unsafe size."),
}


def upload_refusal_text(reason: str) -> str:
    """The translated sentence for a refusal ``reason`` of the upload check."""
    return str(UPLOAD_REFUSALS.get(reason, UPLOAD_REFUSALS["damaged"]))
