"""Online voting: windows (Art. 15), the voter list (Art. 7), re-voting and in-person votes
(Art. 20(5)), and every check of an encrypted ballot (spec section 5)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from referendum_core.crypto import build_manifest, encrypt_ballot, generate_trustee_key
from referendum_core.crypto.ballot import audit_opening
from referendum_core.crypto.board import EMPTY_HEAD, chain_heads
from referendum_core.etvr import mark_voted
from referendum_core.voting import cast_ballot, record_audited_ballot
from referendum_core.voting.counting import counted_seqs
from referendum_core.voting.exceptions import (
    BallotRefused,
    NotOnVoterList,
    OnlineVotingNotAvailable,
    OutsideVotingWindow,
    VotedInPerson,
)
from referendum_core.voting.models import AuditedBallot, BoardEntry
from tests.voting_support import (
    NO_VOTE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
    riga,
)


@pytest.fixture()
def scenario(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    clock.set(ONLINE_MONDAY)
    return s


def _entries(session, referendum):
    return list(session.scalars(select(BoardEntry).where(
        BoardEntry.referendum_id == referendum.id).order_by(BoardEntry.seq)))


def test_cast_appends_to_the_board_with_the_head_chain(db_session, clock, scenario):
    ref = scenario.referendum
    receipts = [cast_ballot(db_session, clock, v, ref, json.dumps(scenario.ballot(v, YES_VOTE)))
                for v in scenario.voters[:3]]
    assert [r.seq for r in receipts] == [1, 2, 3]
    entries = _entries(db_session, ref)
    assert [e.tracker for e in entries] == [r.tracker for r in receipts]
    head = chain_heads([bytes.fromhex(e.tracker) for e in entries], EMPTY_HEAD).hex()
    assert ref.board_head == head == receipts[-1].board_head == entries[-1].head
    assert receipts[0].cast_at == "2026-03-09T08:00:00Z"


@pytest.mark.parametrize("when", [
    riga(ONLINE_MONDAY.date() - timedelta(days=1), 23, 59),  # Sunday before
    riga(ONLINE_MONDAY.date() + timedelta(days=3), 0, 0),  # Thursday 00:00
    POLLS_OPEN,  # referendum day: only at polling stations
])
def test_art15_1_online_voting_only_monday_to_wednesday(db_session, clock, scenario, when):
    voter = scenario.voters[0]
    ballot = scenario.ballot(voter, YES_VOTE)
    clock.set(when)
    with pytest.raises(OutsideVotingWindow):
        cast_ballot(db_session, clock, voter, scenario.referendum, ballot)
    assert _entries(db_session, scenario.referendum) == []


def test_art15_1_wednesday_just_before_midnight_is_still_open(db_session, clock, scenario):
    clock.set(riga(ONLINE_MONDAY.date() + timedelta(days=2), 23, 59))
    voter = scenario.voters[0]
    assert cast_ballot(db_session, clock, voter, scenario.referendum,
                       scenario.ballot(voter, NO_VOTE)).seq == 1


class _TickingClock:
    """Two seconds pass between any two readings (a slow ballot check at the window's end)."""

    def __init__(self, start):
        self.current = start

    def now(self):
        now = self.current
        self.current = now + timedelta(seconds=2)
        return now


def test_art15_1_a_ballot_checked_as_the_window_closes_is_never_recorded_after_it(
        db_session, scenario):
    """The time on the board is the ballot's arrival, taken before the window check: a cast
    that passes the check is recorded inside the window (the record verifier refuses a
    ``cast_at`` after ``closes_at``), however long its proofs take."""
    ref, voter = scenario.referendum, scenario.voters[0]
    ballot = scenario.ballot(voter, YES_VOTE)
    ticking = _TickingClock(ref.online_closes_at - timedelta(seconds=3))
    receipt = cast_ballot(db_session, ticking, voter, ref, json.dumps(ballot))
    [entry] = _entries(db_session, ref)
    assert entry.cast_at.replace(tzinfo=ref.online_closes_at.tzinfo) < ref.online_closes_at
    assert receipt.cast_at == entry.cast_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_art15_2_no_online_vote_in_a_dismissal_referendum(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys, subject="dismissal", atvk="0001000",
                       station_number=811)
    clock.set(ONLINE_MONDAY)
    with pytest.raises(OnlineVotingNotAvailable):
        cast_ballot(db_session, clock, s.voters[0], s.referendum, "{}")


def test_art7_voter_not_on_the_list_is_refused(db_session, clock, scenario, people):
    outsider = people.voter("010101-10006", "Ārpus Saraksta")
    with pytest.raises(NotOnVoterList):
        cast_ballot(db_session, clock, outsider, scenario.referendum, "{}")
    official = scenario.chair  # no personal code at all
    with pytest.raises(NotOnVoterList):
        cast_ballot(db_session, clock, official, scenario.referendum, "{}")


def test_ballot_for_another_election_is_refused(db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    _, public = generate_trustee_key("other-election", "T")
    other = build_manifest(election_id="other-election", municipality="0023000",
                           question=ref.manifest_dict["question"],
                           opens_at=ref.manifest_dict["opens_at"],
                           closes_at=ref.manifest_dict["closes_at"], revoting=True,
                           trustees=[public])
    alias = scenario.ballot(voter, YES_VOTE)["alias"]
    foreign = encrypt_ballot(other, alias, YES_VOTE).ballot
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, foreign)
    assert (err.value.reason, err.value.location) == ("other_election", "election_hash")
    assert _entries(db_session, ref) == []


def test_replayed_ballot_is_refused_and_nothing_counted_twice(db_session, clock, scenario):
    ref, voter, other = scenario.referendum, scenario.voters[0], scenario.voters[1]
    ballot = scenario.ballot(voter, YES_VOTE)
    cast_ballot(db_session, clock, voter, ref, ballot)
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, ballot)
    assert err.value.reason == "replay"
    with pytest.raises(BallotRefused) as err:  # someone else's copy: not their alias
        cast_ballot(db_session, clock, other, ref, ballot)
    assert err.value.reason == "alias"
    assert len(_entries(db_session, ref)) == 1


def test_tampered_ballot_fails_its_proof(db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    ballot = scenario.ballot(voter, YES_VOTE)
    ballot["choices"][0]["beta"], ballot["choices"][1]["beta"] = (
        ballot["choices"][1]["beta"], ballot["choices"][0]["beta"])
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, ballot)
    assert err.value.location.startswith("choices[0]")
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, "not json")
    assert err.value.reason == "not_json"
    assert _entries(db_session, ref) == []


def test_art20_5_revote_the_last_ballot_counts(db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    clock.advance(timedelta(hours=5))
    cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, NO_VOTE))
    entries = _entries(db_session, ref)
    assert [e.seq for e in entries] == [1, 2] and entries[0].alias == entries[1].alias
    assert counted_seqs(db_session, ref, []) == [2]


def test_art20_5_after_voting_in_person_online_voting_is_refused(db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    mark_voted(db_session, clock, scenario.members[0], ref.case_id, voter.person_ref,
               polling_station=scenario.station)
    with pytest.raises(VotedInPerson) as err:
        cast_ballot(db_session, clock, voter, ref, scenario.ballot(voter, YES_VOTE))
    assert err.value.where == str(scenario.station.id)


def test_benaloh_audited_ballot_is_published_and_can_never_be_cast(db_session, clock, scenario):
    ref, voter = scenario.referendum, scenario.voters[0]
    encrypted = scenario.encrypted(voter, YES_VOTE)
    audited = record_audited_ballot(db_session, clock, voter, ref,
                                    json.dumps(audit_opening(encrypted)))
    assert audited.tracker == encrypted.tracker
    with pytest.raises(BallotRefused) as err:
        cast_ballot(db_session, clock, voter, ref, encrypted.ballot)
    assert err.value.reason == "audited"
    wrong = audit_opening(scenario.encrypted(voter, YES_VOTE))
    wrong["plaintext"] = [0, 1]
    with pytest.raises(BallotRefused):
        record_audited_ballot(db_session, clock, voter, ref, wrong)
    someone_else = audit_opening(scenario.encrypted(scenario.voters[1], NO_VOTE))
    with pytest.raises(BallotRefused) as err:
        record_audited_ballot(db_session, clock, voter, ref, someone_else)
    assert err.value.reason == "alias"
    assert db_session.scalar(select(func.count()).select_from(AuditedBallot)) == 1
    assert _entries(db_session, ref) == []


def test_accepted_ballot_leaves_no_audit_entry_but_a_refusal_does(db_session, clock, scenario):
    """The board records accepted ballots; an audit entry naming the voter at the second of
    casting would link them to their board entry. Refusals leave nothing on the board and are
    audited."""
    from referendum_core.audit import AuditEntry

    ref, voter = scenario.referendum, scenario.voters[0]
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    cast_ballot(db_session, clock, voter, ref, json.dumps(scenario.ballot(voter, YES_VOTE)))
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before
    tampered = scenario.ballot(voter, YES_VOTE)
    tampered["election_hash"] = "00" * 32
    with pytest.raises(BallotRefused):
        cast_ballot(db_session, clock, voter, ref, json.dumps(tampered))
    refusal = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert refusal.action == "voting.ballot_refused" and refusal.actor_id == voter.id


def test_online_voters_are_counted_as_ballots_are_cast(db_session, clock, scenario):
    """Art. 20(5): a re-vote replaces the voter's ballot, so it adds a board entry but not an
    online voter. The counter advanced by each cast matches the board's distinct aliases."""
    from referendum_core.voting.results import live_turnout

    ref = scenario.referendum
    first, second = scenario.voters[0], scenario.voters[1]
    for voter, vote in ((first, YES_VOTE), (first, NO_VOTE), (second, YES_VOTE)):
        cast_ballot(db_session, clock, voter, ref, json.dumps(scenario.ballot(voter, vote)))
    assert ref.board_seq == 3 and ref.online_voters == 2
    db_session.expire(ref)
    distinct = db_session.scalar(select(func.count(func.distinct(BoardEntry.alias))).where(
        BoardEntry.referendum_id == ref.id))
    assert ref.online_voters == distinct == 2
    assert live_turnout(db_session, ref).online_voters == 2
