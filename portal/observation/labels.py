"""Latvian and English names of the checklist's phases and items (declared in
``referendum_core.observation.checklists``); the refusals' sentences are in
``portal.refusal_texts``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
