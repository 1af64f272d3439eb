"""Translated sentences for the accreditation refusals (``AccreditationRefused.reason``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from portal.dates import MOMENT_PATTERN
from referendum_core.observers import AccreditationRefused

STATUSES = {
    "requested": _l("Waiting for the commission"),
    "approved": _l("Accredited"),
    "rejected": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}
KINDS = {
    "initiator": _l("Authorised by the initiators"),
    "cvk_member": _l("Member of the Central Election Commission"),
    "commission_member": _l("Member of the election commission"),
    "media": _l("Media representative"),
}

REASONS: dict[str, Callable[[AccreditationRefused], str]] = {
    "station_limit": lambda err: gettext(
        "Polling station No. %(station)s already has %(limit)s observers named by the "
        "initiators: the law allows at most two observers per polling station for each "
        "initiator (Art. 18(3)). Name the observer for another station, or withdraw an "
        "earlier request first.", station=err.params.get("station", "-"),
        limit=err.params.get("limit", 2)),
    "not_initiator": lambda err: gettext(
        "Only the initiators of this referendum may name its observers (Art. 18(3))."),
    "not_council_initiative": lambda err: gettext(
        "The commission enters observers on the initiators' behalf only for a referendum the "
        "council initiated (Art. 18(3)); the residents who applied name theirs themselves."),
    "no_initiative": lambda err: gettext("This referendum has no initiative whose initiators "
                                         "could name observers."),
    "kind_not_allowed": lambda err: gettext(
        "You may not record this kind of observer: CVK records its members, the municipal "
        "commission its members and the media; the initiators name theirs by request "
        "(Art. 18(3))."),
    "wrong_station": lambda err: gettext("The polling station is not in this municipality."),
    "too_late": lambda err: gettext(
        "Observers can no longer be accredited: the referendum's days ended at %(when)s.",
        when=format_datetime(err.params["ends_at"], MOMENT_PATTERN)
        if err.params.get("ends_at") else "-"),
    "name_required": lambda err: gettext("Write the observer's name."),
    "email_invalid": lambda err: gettext(
        "Write the observer's e-mail address: the invitation to sign in is sent there."),
    "too_long": lambda err: gettext("The text is too long."),
    "no_observers": lambda err: gettext("Name at least one observer."),
    "duplicate": lambda err: gettext(
        "%(email)s is already named for polling station No. %(station)s.",
        email=err.params.get("email", "-"), station=err.params.get("station", "-")),
    "not_accreditation": lambda err: gettext("This is not an observer accreditation request."),
    "not_requested": lambda err: gettext("This request has already been decided."),
}


def refusal_text(err: AccreditationRefused) -> str:
    """A sentence for the person, in their language."""
    text = REASONS.get(err.reason)
    return text(err) if text else gettext("The accreditation was refused.")


def template_helpers() -> dict[str, Any]:
    """``status_label`` and ``kind_label`` for the observer templates."""
    return {"status_label": lambda key: str(STATUSES.get(key, key)),
            "kind_label": lambda key: str(KINDS.get(key, key))}
