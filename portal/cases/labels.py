"""Translated names of case types, states, moves and other workflow vocabulary.

Workflows declared by other modules may bring names not listed here; they are shown as
written (underscores as spaces) until a label is added.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

CASE_TYPES = {
    "observer_report": _l("Observer report"),
    "complaint": _l("Complaint or appeal"),
    "commission_query": _l("Commission query to CVK"),
    "initiative": _l("Initiative"),
    "referendum": _l("Referendum"),
    "home_voting": _l("Home voting"),
    "observer_accreditation": _l("Observer accreditation"),
}
STATES = {
    "submitted": _l("Submitted"),
    "triaged": _l("Triaged"),
    "investigating": _l("Investigating"),
    "awaiting_information": _l("Waiting for the requester"),
    "resolved": _l("Resolved"),
    "dismissed": _l("Dismissed"),
    "under_review": _l("Under review"),
    "decided": _l("Decided (court window open)"),
    "in_court": _l("In court"),
    "closed": _l("Closed"),
    "withdrawn": _l("Withdrawn"),
    "answered": _l("Answered"),
    # Home voting (declared in referendum_core.voting.home_voting).
    "requested": _l("Requested"),
    "accepted": _l("Accepted"),
    "refused": _l("Refused"),
    "visited": _l("Ballot taken to the voter"),
    # Observer accreditation (declared in referendum_core.observers.accreditation).
    "accredited": _l("Accredited"),
    # Initiatives and referendums (referendum_core.initiatives, referendum_core.voting).
    "approved": _l("Decided: signatures may be collected"),
    "collecting": _l("Collecting signatures"),
    "collected": _l("Signature collection closed"),
    "applied": _l("Applied for the signature check"),
    "checking": _l("Signatures being checked"),
    "lapsed": _l("Lapsed (no application)"),
    "reached": _l("Enough signatures"),
    "called": _l("Referendum called"),
    "not_reached": _l("Not enough signatures"),
    "scheduled": _l("Called, being set up"),
    "voting": _l("Voting under way"),
    "counting": _l("Counting the votes"),
    "announced": _l("Results announced"),
    "cancelled": _l("Cancelled"),
}
TRANSITIONS = {
    "triage": _l("Triage"),
    "investigate": _l("Start investigating"),
    "request_information": _l("Ask the requester for information"),
    "resubmit": _l("Send the requested information"),
    "resolve": _l("Resolve"),
    "dismiss": _l("Dismiss"),
    "review": _l("Start review"),
    "uphold": _l("Uphold the complaint"),
    "reject": _l("Reject the complaint"),
    "appeal_to_court": _l("Record appeal to court"),
    "close_unappealed": _l("Close (not appealed)"),
    "record_court_ruling": _l("Record the court's ruling"),
    "withdraw": _l("Withdraw"),
    "answer": _l("Answer"),
    "follow_up": _l("Ask a follow-up question"),
    "close": _l("Close"),
    "accept": _l("Accept"),
    "refuse": _l("Refuse"),
    "visit": _l("Record the visit"),
    "accredit": _l("Accredit the observers"),
    "approve": _l("Allow signature collection"),
    "council_call": _l("Council calls the referendum"),
    "publish": _l("Publish the initiative"),
    "close_collection": _l("Close the collection"),
    "close_short": _l("Close: too few signatures"),
    "apply": _l("Apply for the signature check"),
    "lapse": _l("End: no application"),
    "start_check": _l("Start the signature check"),
    "threshold_reached": _l("Record: enough signatures"),
    "threshold_not_reached": _l("Record: not enough signatures"),
    "open_voting": _l("Open the vote"),
    "close_polls": _l("Close the polls"),
    "approve_results": _l("Approve the results"),
    "cancel": _l("Cancel the referendum"),
}
EVENTS = {
    "opened": _l("Filed"),
    "draft_started": _l("Form opened"),
    "transition": _l("Status changed"),
    "comment": _l("Comment"),
    "assignment": _l("Assigned"),
    "attachment": _l("Photo attached"),
    "message": _l("Message thread"),
    "deadline_changed": _l("Deadline changed"),
    "escalation": _l("Deadline reminder"),
    "returned_to_requester": _l("Returned to the requester"),
    "resubmitted": _l("Re-submitted by the requester"),
    "closed": _l("Closed"),
    "step": _l("Step required by law"),
}
STEPS = {
    "inform_register": _l("Inform the voter register (PMLP) of the referendum"),
    "initial_list": _l("Initial voter list ready"),
    "register_changes_close": _l("Changes to the voter register close"),
    "list_to_etvr": _l("Voter list handed to the ETVR"),
    "tell_council_and_applicants": _l("Tell the council and the applicants"),
    "public_announcement": _l("Announce the referendum publicly"),
    "council_considers": _l("The council considers the decision passed in the referendum"),
    "council_adopts": _l("The council adopts what the passed decision needs"),
    "readopt_only_by_next_council": _l("The rejected council decision may be readopted only "
                                       "by the next council, elected on this day"),
    "dismissal_to_ministry": _l("The passed dismissal goes to the ministry (open rule: 3 "
                                "working days)"),
    "new_elections": _l("New council elections"),
    "council_decision_suspended": _l("The council decision is suspended until the results"),
    "council_decision_suspension_ended": _l("The suspension of the council decision ends with "
                                            "the results"),
}
PARTIES = {
    "requester": _l("the requester"),
    "commission": _l("the municipal election commission"),
    "chair": _l("the commission chair"),
    "cvk": _l("the Central Election Commission"),
    "system": _l("automatic"),
}
CATEGORIES = {
    "voter_list": _l("Voter list or identification"),
    "ballot_secrecy": _l("Secrecy of the ballot"),
    "ballot_box": _l("Ballot box or seals"),
    "campaigning": _l("Campaigning at the station"),
    "intimidation": _l("Pressure or intimidation"),
    "accessibility": _l("Accessibility"),
    "counting": _l("Counting"),
    "other": _l("Other"),
}
SEVERITIES = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "critical": _l("Critical — voting affected now"),
}
GROUNDS = {
    "count_protocol": _l("A count protocol (Art. 20(7))"),
    "commission_decision": _l("A decision of the election commission (Art. 13(6)–(7))"),
    "municipality_refusal": _l("The municipality's refusal of an initiative (Art. 10(7))"),
}
APPLICANTS = {
    "voter": _l("Voter"),
    "initiator": _l("Initiator"),
    "observer": _l("Observer"),
}
NOTIFY = {
    "owner": _l("reminder to whoever must act"),
    "chair": _l("passed to the commission chair"),
    "cvk": _l("passed to CVK"),
}


def label(table: dict[str, Any], key: str | None) -> str:
    """The translated label of ``key`` in ``table`` (or the key made readable)."""
    if key is None:
        return ""
    found = table.get(key)
    return str(found) if found is not None else key.replace("_", " ")


def template_helpers() -> dict[str, Any]:
    """``label_*`` functions for the case templates."""
    tables = {"type": CASE_TYPES, "state": STATES, "move": TRANSITIONS, "event": EVENTS,
              "party": PARTIES, "category": CATEGORIES, "severity": SEVERITIES,
              "grounds": GROUNDS, "notify": NOTIFY, "step": STEPS}
    return {f"label_{name}": (lambda key, t=table: label(t, key)) for name, table in tables.items()}
