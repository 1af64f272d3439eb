"""Home voting (Art. 19, polling day Art. 16(1)): requests are cases; the commission accepts or
refuses; the visit marks the voter in the ETVR for the station so they cannot vote again."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from referendum_core.audit import AuditEntry
from referendum_core.cases.exceptions import NotAllowed, NoteRequired
from referendum_core.cases.models import CaseType
from referendum_core.cases.services import transition_case
from referendum_core.cases.workflows import REGISTRY, Party
from referendum_core.etvr import AlreadyVoted, find_mark
from referendum_core.voting import (
    cast_ballot,
    decide_home_voting,
    mark_in_person,
    record_home_vote,
    request_home_voting,
)
from referendum_core.voting.counting import excluded_aliases
from referendum_core.voting.exceptions import (
    HomeVotingRefused,
    NotOnVoterList,
    OutsidePollingHours,
)
from referendum_core.voting.home_voting import HOME_VOTING_WORKFLOW, request_of
from referendum_core.voting.rules import home_voting_cutoff
from tests.voting_support import (
    ONLINE_MONDAY,
    POLLS_OPEN,
    REFERENDUM_DAY,
    YES_VOTE,
    build_scenario,
    riga,
)

COMMISSION = {Party.COMMISSION}


@pytest.fixture()
def s(db_session, clock, keys):
    return build_scenario(db_session, clock, keys)


def _request(s, voter=None, **kw):
    voter = voter or s.voters[0]
    actor = kw.pop("actor", voter)
    args = dict(person_ref=voter.person_ref, address="Gaujas iela 5-2, Ādaži",
                reason="Slimības dēļ nevaru ierasties")
    args.update(kw)
    return request_home_voting(s.session, s.clock, actor, s.referendum, s.station, **args)


def test_art19_home_voting_workflow_is_registered_with_the_cases():
    assert REGISTRY.get(CaseType.HOME_VOTING) is HOME_VOTING_WORKFLOW
    # The visit is only made by the service that sets the ETVR mark, never by hand.
    visit = HOME_VOTING_WORKFLOW.find("accepted", "visit")
    assert visit is not None and visit.parties == frozenset({Party.SYSTEM})


def test_art19_voter_requests_home_voting_as_a_case(s, db_session):
    case = _request(s)
    details = request_of(db_session, case)
    assert case.type == "home_voting" and case.state == "requested"
    assert case.parent_case_id == s.referendum.case_id
    assert case.polling_station_id == s.station.id
    assert case.deadline_at == s.referendum.polls_close_at
    assert case.created_by_id == s.voters[0].id and details.entered_by_commission is False
    assert details.address.startswith("Gaujas") and details.visited_at is None
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "voting.home_voting_requested")).one()
    assert "Gaujas" not in entry.detail and "Slimības" not in entry.detail


def test_art19_commission_enters_a_request_on_the_voters_behalf(s, db_session):
    case = _request(s, actor=s.members[0], entered_by_commission=True)
    assert case.created_by_id == s.members[0].id
    assert request_of(db_session, case).person_ref == s.voters[0].person_ref


def test_art19_requests_close_at_the_cutoff_open_rule_default_noon(s, clock):
    assert home_voting_cutoff(REFERENDUM_DAY) == riga(REFERENDUM_DAY, 12)
    clock.set(riga(REFERENDUM_DAY, 11, 59))
    _request(s, s.voters[0])
    clock.set(riga(REFERENDUM_DAY, 12))
    with pytest.raises(HomeVotingRefused) as refused:
        _request(s, s.voters[1])
    assert refused.value.reason == "after_cutoff" and refused.value.article == "Art. 19"
    # The cut-off is configurable (open rule).
    _request(s, s.voters[1], cutoff=time(15, 0))


def test_art19_request_needs_the_list_an_address_a_reason_and_only_once(s, people):
    outsider = people.voter("010101-10006", "Ārpus Saraksta")
    with pytest.raises(NotOnVoterList):
        _request(s, outsider)
    with pytest.raises(HomeVotingRefused, match="address_required"):
        _request(s, address="  ")
    with pytest.raises(HomeVotingRefused, match="reason_required"):
        _request(s, reason="")
    with pytest.raises(HomeVotingRefused, match="too_long"):
        _request(s, address="x" * 301)
    _request(s)
    with pytest.raises(HomeVotingRefused, match="already_requested"):
        _request(s)


def test_art19_refusal_needs_a_reason_and_a_new_request_may_follow(s):
    case = _request(s)
    with pytest.raises(NoteRequired):
        decide_home_voting(s.session, s.clock, s.members[0], case, accept=False,
                           parties=COMMISSION)
    decide_home_voting(s.session, s.clock, s.members[0], case, accept=False,
                       note="Adrese ārpus pašvaldības", parties=COMMISSION)
    assert case.state == "refused" and not case.is_open
    assert _request(s).state == "requested"


def test_art19_voter_cannot_accept_their_own_request_nor_mark_it_visited(s):
    case = _request(s)
    with pytest.raises(NotAllowed):
        decide_home_voting(s.session, s.clock, s.voters[0], case, accept=True,
                           parties={Party.REQUESTER})
    decide_home_voting(s.session, s.clock, s.members[0], case, accept=True, parties=COMMISSION)
    with pytest.raises(NotAllowed):
        transition_case(s.session, s.clock, s.members[0], case, "visit", None,
                        parties={Party.COMMISSION, Party.CHAIR})


def test_art19_visit_marks_the_voter_in_the_etvr_so_they_cannot_vote_again(s, clock, db_session):
    voter = s.voters[0]
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, voter, s.referendum, s.ballot(voter, YES_VOTE))
    case = _request(s)
    with pytest.raises(HomeVotingRefused, match="not_accepted"):
        clock.set(POLLS_OPEN + timedelta(hours=1))
        record_home_vote(db_session, clock, s.members[0], case)
    clock.set(ONLINE_MONDAY)
    decide_home_voting(db_session, clock, s.members[0], case, accept=True, parties=COMMISSION)
    assert case.state == "accepted" and case.deadline_at == s.referendum.polls_close_at
    # Art. 16(1): the ballot is taken home on polling day, during polling hours.
    with pytest.raises(OutsidePollingHours):
        record_home_vote(db_session, clock, s.members[0], case)
    clock.set(POLLS_OPEN + timedelta(hours=3))
    outcome = record_home_vote(db_session, clock, s.members[0], case)
    assert outcome.online_ballot_cancelled and not outcome.by_envelope
    assert case.state == "visited" and request_of(db_session, case).visited_at is not None
    mark = find_mark(db_session, s.referendum.case_id, voter.person_ref)
    assert mark is not None and mark.polling_station_id == s.station.id
    # Art. 20(5): the online ballot is not counted; the station refuses a second vote.
    assert excluded_aliases(db_session, s.referendum)
    with pytest.raises(AlreadyVoted):
        mark_in_person(db_session, clock, s.members[1], s.referendum, s.station, s.codes[0],
                       s.keys.personal_codes)


def test_art19_visit_of_a_voter_who_meanwhile_voted_at_a_station_is_refused(s, clock,
                                                                           db_session):
    case = _request(s)
    decide_home_voting(db_session, clock, s.members[0], case, accept=True, parties=COMMISSION)
    clock.set(POLLS_OPEN + timedelta(hours=1))
    mark_in_person(db_session, clock, s.members[1], s.referendum, s.station, s.codes[0],
                   s.keys.personal_codes)
    with pytest.raises(AlreadyVoted):
        record_home_vote(db_session, clock, s.members[0], case)
    assert case.state == "accepted"
