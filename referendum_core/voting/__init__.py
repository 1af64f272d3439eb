"""Referendum voting: set-up, online early voting with verifiable encrypted ballots,
polling stations, the tally, protocols and results. Pure domain: no Flask, no portal.

The public services are re-exported here; models live in ``models``.
"""
from referendum_core.voting.casting import CastReceipt, cast_ballot, record_audited_ballot
from referendum_core.voting.counting import (
    PollsStillOpen,
    accept_trustee_share,
    close_polls,
    compute_result,
)
from referendum_core.voting.eligibility import alias_for, check_may_vote_online, is_on_list
from referendum_core.voting.home_voting import (
    HOME_VOTING_WORKFLOW,
    decide_home_voting,
    record_home_vote,
    request_home_voting,
)
from referendum_core.voting.preparation import (
    add_trustee_key,
    choose_trustees,
    open_voting,
    opening_refusal,
    setup_referendum,
    trustee_choice_refusal,
)
from referendum_core.voting.results import (
    ApprovalReadiness,
    approval_readiness,
    approve_results,
    iter_election_record,
    live_turnout,
    protocols_document,
    write_election_record,
)
from referendum_core.voting.stations import (
    confirm_protocol,
    enter_protocol,
    mark_in_person,
    reconcile_envelopes,
)

__all__ = [
    "HOME_VOTING_WORKFLOW",
    "CastReceipt",
    "PollsStillOpen",
    "accept_trustee_share",
    "add_trustee_key",
    "alias_for",
    "ApprovalReadiness",
    "approval_readiness",
    "approve_results",
    "cast_ballot",
    "check_may_vote_online",
    "choose_trustees",
    "close_polls",
    "compute_result",
    "confirm_protocol",
    "decide_home_voting",
    "enter_protocol",
    "is_on_list",
    "iter_election_record",
    "live_turnout",
    "mark_in_person",
    "open_voting",
    "opening_refusal",
    "protocols_document",
    "reconcile_envelopes",
    "trustee_choice_refusal",
    "record_audited_ballot",
    "record_home_vote",
    "request_home_voting",
    "setup_referendum",
    "write_election_record",
]
