"""Latvian and English names of the checklist's phases and items (declared in
``referendum_core.observation.checklists``), and the messages of the observation refusals."""
from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from referendum_core.observation.exceptions import InvalidObservationPhoto, ObservationError

PHASES = {
    "opening": _l("Opening of the polling station"),
    "during": _l("During the voting day"),
    "closing": _l("Closing and counting"),
}
ITEMS = {
    "seals_intact": _l("Are the seals of the ballot box intact?"),
    "ballot_box_empty": _l("Was the ballot box shown empty before it was sealed?"),
    "voter_lists_present": _l("Are the voter lists present?"),
    "ballots_received": _l("How many ballots did the station receive?"),
    "queue_length": _l("How many people are waiting in the queue?"),
    "secrecy_ensured": _l("Can everyone vote in secret (booths, no one looking)?"),
    "etvr_working": _l("Is the electronic voter register (ETVR) working?"),
    "observers_admitted": _l("Could observers follow everything they asked to?"),
    "envelopes_sealed": _l("Were the envelopes with ballots sealed and signed?"),
    "unused_ballots": _l("How many unused ballots were cancelled?"),
    "protocol_voters": _l("Number of voters in the protocol"),
    "protocol_ballots_in_box": _l("Number of ballots found in the box (protocol)"),
}


def item_label(key: str) -> str:
    """The item's question in the person's language (the key itself if it has no label)."""
    return str(ITEMS.get(key, key.replace("_", " ")))


def message_for(err: ObservationError) -> str:
    """What to tell the observer, in their language."""
    messages = {
        "not_observer_here": lambda: gettext(
            "You are not an observer of this polling station for this referendum."),
        "invalid_answer": lambda: gettext(
            "An answer does not fit its question. Check the numbers and try again."),
        "invalid_key": lambda: gettext(
            "The phone sent this without its own identifier. Reload the page and fill it in "
            "again."),
        "already_corrected": lambda: gettext(
            "This has been corrected already. Correct the latest version instead."),
        "send_again": lambda: gettext(
            "Someone sent answers to the same questions at the same moment. It will be sent "
            "again shortly."),
        "append_only": lambda: gettext(
            "What was sent cannot be changed; send a correction instead."),
    }
    if isinstance(err, InvalidObservationPhoto):
        return gettext("The photo is not an accepted image (JPEG, PNG, WebP or HEIC up to "
                       "8 MB).")
    return messages.get(err.code, messages["invalid_answer"])()
