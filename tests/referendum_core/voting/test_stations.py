"""Referendum day at the polling stations: ETVR marks (Art. 17(2)-(3)), cancelling online
ballots (Art. 20(5)), polling hours (Art. 16(1)), registration envelopes (Art. 4(6), 29-30)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from referendum_core.etvr import AlreadyVoted, EtvrUnavailable, find_mark, mark_voted
from referendum_core.organisation import add_polling_station
from referendum_core.voting import cast_ballot, close_polls, mark_in_person, reconcile_envelopes
from referendum_core.voting.exceptions import (
    EnvelopeExists,
    NotOnVoterList,
    OutsidePollingHours,
)
from referendum_core.voting.results import live_turnout
from tests.register_data import code_for
from tests.voting_support import AFTER_CLOSE, ONLINE_MONDAY, POLLS_OPEN, YES_VOTE, build_scenario


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    s.other_station = add_polling_station(db_session, s.municipality, 809, "Bibliotēka",
                                          "Rīgas gatve 5")
    clock.set(POLLS_OPEN + timedelta(hours=1))
    return s


def _mark(s, clock, code, station=None, **kw):
    return mark_in_person(s.session, clock, s.members[0], s.referendum, station or s.station,
                          code, s.keys.personal_codes, **kw)


@pytest.mark.parametrize("offset", [timedelta(minutes=-1), timedelta(hours=13)])
def test_art16_1_polling_stations_mark_only_from_7_to_20(db_session, clock, scenario, offset):
    clock.set(POLLS_OPEN + offset)
    with pytest.raises(OutsidePollingHours):
        _mark(scenario, clock, scenario.codes[0])


def test_art17_voter_marked_elsewhere_is_refused_with_where_and_when(db_session, clock,
                                                                     scenario):
    _mark(scenario, clock, scenario.codes[0])
    clock.advance(timedelta(minutes=30))
    with pytest.raises(AlreadyVoted) as err:
        _mark(scenario, clock, scenario.codes[0], scenario.other_station)
    assert err.value.mark.polling_station_id == scenario.station.id
    assert err.value.mark.marked_at == POLLS_OPEN + timedelta(hours=1)


def test_art7_person_not_on_the_list_is_refused(db_session, clock, scenario):
    with pytest.raises(NotOnVoterList):
        _mark(scenario, clock, code_for(date(1980, 1, 1), 7))


def test_art20_5_in_person_vote_cancels_the_online_ballot(db_session, clock, scenario):
    s, voter = scenario, scenario.voters[1]
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, voter, s.referendum, s.ballot(voter, YES_VOTE))
    clock.set(POLLS_OPEN + timedelta(hours=3))
    assert live_turnout(db_session, s.referendum).online_voters == 1
    outcome = _mark(s, clock, s.codes[1])
    assert outcome.online_ballot_cancelled
    turnout = live_turnout(db_session, s.referendum)
    assert (turnout.online_voters, turnout.in_person, turnout.participants) == (0, 1, 1)
    assert turnout.eligible == 4


def test_etvr_unreachable_falls_back_to_registration_envelopes(db_session, clock, scenario):
    """Art. 4(6), 29-30: with the ETVR down the vote is recorded in a registration envelope,
    checked against the ETVR afterwards."""
    s = scenario

    def unreachable(*_args, **_kw):
        raise EtvrUnavailable()

    outcome = _mark(s, clock, s.codes[0], etvr_mark=unreachable)
    assert outcome.by_envelope
    assert find_mark(db_session, s.referendum.case_id, s.voters[0].person_ref) is None
    # The envelope is known at once: a second station is told where and when.
    with pytest.raises(EnvelopeExists):
        _mark(s, clock, s.codes[0], s.other_station)
    # Envelope mode chosen by the commission, while the ETVR already knows this voter
    # from another station: reconciliation finds the conflict.
    mark_voted(db_session, clock, s.members[1], s.referendum.case_id, s.voters[2].person_ref,
               polling_station=s.other_station)
    assert _mark(s, clock, s.codes[2], envelope_mode=True).by_envelope
    still_down = reconcile_envelopes(db_session, clock, s.chair, s.referendum,
                                     etvr_mark=unreachable)
    assert (still_down.reconciled, still_down.pending) == (0, 2)
    done = reconcile_envelopes(db_session, clock, s.chair, s.referendum)
    assert (done.reconciled, done.conflicts, done.pending) == (2, 1, 0)
    assert find_mark(db_session, s.referendum.case_id, s.voters[0].person_ref) is not None


def test_a_mark_after_an_envelope_elsewhere_names_the_etvr_mark_first(db_session, clock,
                                                                       scenario):
    """Art. 17(3): one voter, one vote. Marked at the first station (ETVR), then recorded on an
    envelope at a second in envelope mode, a further mark at the second station (the ETVR
    answering again) is refused naming the ETVR's mark, the vote of record, not the envelope."""
    s = scenario
    _mark(s, clock, s.codes[1])
    assert _mark(s, clock, s.codes[1], s.other_station, envelope_mode=True).by_envelope
    with pytest.raises(AlreadyVoted) as refused:
        _mark(s, clock, s.codes[1], s.other_station)
    assert refused.value.mark.polling_station_id == s.station.id


def test_envelope_voters_online_ballots_are_excluded_at_close(db_session, clock, scenario):
    s, voter = scenario, scenario.voters[3]
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, voter, s.referendum, s.ballot(voter, YES_VOTE))
    clock.set(POLLS_OPEN + timedelta(hours=2))
    _mark(s, clock, s.codes[3], envelope_mode=True)
    clock.set(AFTER_CLOSE)
    ref = close_polls(db_session, clock, None, s.chair, s.referendum)
    assert ref.counted == 0 and len(ref.excluded_list) == 1
    assert ref.online_result_dict == {"yes": 0, "no": 0}  # nothing to decrypt
