"""A whole referendum in the domain: online votes (re-vote, audit, in-person cancellation),
polls closing (Art. 20(1), (4)-(6)), trustee shares (proofs checked), protocols with a second
member's confirmation, approval with Art. 22 validity, and the election record that
``referendum-verify`` accepts with the expected numbers."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from referendum_core.cases.models import EventKind
from referendum_core.crypto import verify_ballot
from referendum_core.crypto.ballot import audit_opening
from referendum_core.crypto.verify_cli import main as verify_main
from referendum_core.voting import (
    accept_trustee_share,
    approve_results,
    cast_ballot,
    close_polls,
    confirm_protocol,
    enter_protocol,
    mark_in_person,
    record_audited_ballot,
    write_election_record,
)
from referendum_core.voting.counting import PollsStillOpen
from referendum_core.voting.exceptions import (
    NotATrustee,
    ProtocolRefused,
    ResultsNotReady,
    ShareRefused,
    WrongStage,
)
from referendum_core.voting.models import Stage
from referendum_core.voting.results import result_of
from tests.voting_support import (
    AFTER_CLOSE,
    NO_VOTE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
    riga,
)


@pytest.fixture()
def voted(db_session, clock, keys):
    """v0 yes; v1 no then yes (re-vote); v2 yes online then in person; v3 audits, then no."""
    s = build_scenario(db_session, clock, keys)
    ref, (v0, v1, v2, v3) = s.referendum, s.voters
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, v0, ref, s.ballot(v0, YES_VOTE))
    cast_ballot(db_session, clock, v1, ref, s.ballot(v1, NO_VOTE))
    cast_ballot(db_session, clock, v2, ref, s.ballot(v2, YES_VOTE))
    record_audited_ballot(db_session, clock, v3, ref, audit_opening(s.encrypted(v3, YES_VOTE)))
    cast_ballot(db_session, clock, v3, ref, s.ballot(v3, NO_VOTE))
    clock.advance(timedelta(days=1))
    cast_ballot(db_session, clock, v1, ref, s.ballot(v1, YES_VOTE))
    clock.set(POLLS_OPEN + timedelta(hours=2))
    outcome = mark_in_person(db_session, clock, s.members[0], ref, s.station, s.codes[2],
                             keys.personal_codes)
    assert outcome.online_ballot_cancelled and not outcome.by_envelope
    return s


def _close(db_session, clock, s):
    clock.set(AFTER_CLOSE)
    return close_polls(db_session, clock, None, s.chair, s.referendum)


def test_art20_1_online_votes_are_counted_only_after_polls_close(db_session, clock, voted):
    clock.set(riga(POLLS_OPEN.date(), 19, 59))
    with pytest.raises(PollsStillOpen):
        close_polls(db_session, clock, None, voted.chair, voted.referendum)
    assert voted.referendum.stage == Stage.VOTING


def test_close_freezes_the_board_and_excludes_in_person_voters(db_session, clock, voted):
    """Art. 20(1), 20(4)-(6): at the close the board freezes, online ballots of in-person voters
    are excluded and only aliases, never identities, go into the count."""
    ref = _close(db_session, clock, voted)
    alias_v2 = voted.ballot(voted.voters[2], YES_VOTE)["alias"]
    assert ref.stage == Stage.COUNTING and ref.counted == 3
    assert ref.excluded_list == [alias_v2]
    assert ref.case.state == "counting"
    assert ref.case.deadline_at == ref.results_due_at  # Art. 20(9)-(10), 21: from the day
    v0 = voted.voters[0]
    with pytest.raises(WrongStage):  # online voting is over; nothing lands on the board
        cast_ballot(db_session, clock, v0, ref, voted.ballot(v0, NO_VOTE))
    assert ref.board_seq == 5


def test_trustee_share_failing_its_proof_is_refused(db_session, clock, voted):
    ref = _close(db_session, clock, voted)
    bad = voted.partial(0)
    bad["shares"][1]["response"], bad["shares"][0]["response"] = (
        bad["shares"][0]["response"], bad["shares"][1]["response"])
    with pytest.raises(ShareRefused) as err:
        accept_trustee_share(db_session, clock, voted.trustees[0], ref, json.dumps(bad))
    assert err.value.location.startswith("shares[")
    with pytest.raises(ShareRefused):  # trustee 1's share uploaded by trustee 0
        accept_trustee_share(db_session, clock, voted.trustees[0], ref, voted.partial(1))
    with pytest.raises(NotATrustee):
        accept_trustee_share(db_session, clock, voted.chair, ref, voted.partial(0))
    accept_trustee_share(db_session, clock, voted.trustees[0], ref, voted.partial(0))
    with pytest.raises(ShareRefused):  # nothing counted twice
        accept_trustee_share(db_session, clock, voted.trustees[0], ref, voted.partial(0))
    assert ref.stage == Stage.COUNTING and ref.online_result is None


def _tally(db_session, clock, s):
    ref = _close(db_session, clock, s)
    for i, trustee in enumerate(s.trustees):
        accept_trustee_share(db_session, clock, trustee, ref, json.dumps(s.partial(i)))
    return ref


def test_last_trustee_share_recovers_the_online_result(db_session, clock, voted):
    ref = _tally(db_session, clock, voted)
    assert ref.stage == Stage.TALLIED
    assert ref.online_result_dict == {"yes": 2, "no": 1}  # v0 yes, v1 re-voted yes, v3 no


def test_protocol_must_add_up_and_needs_a_second_member(db_session, clock, voted):
    ref, station = _tally(db_session, clock, voted), voted.station
    first, second = voted.members
    with pytest.raises(ProtocolRefused) as err:
        enter_protocol(db_session, clock, first, ref, station, ballots_issued=1, votes_for=1,
                       votes_against=1, invalid=0)
    assert err.value.reason == "does_not_add_up"
    with pytest.raises(ProtocolRefused) as err:  # one voter was marked here, not two
        enter_protocol(db_session, clock, first, ref, station, ballots_issued=2, votes_for=2,
                       votes_against=0, invalid=0)
    assert err.value.reason == "more_than_voters"
    with pytest.raises(ProtocolRefused):
        enter_protocol(db_session, clock, first, ref, station, ballots_issued=-1, votes_for=0,
                       votes_against=0, invalid=-1)
    protocol = enter_protocol(db_session, clock, first, ref, station, ballots_issued=1,
                              votes_for=1, votes_against=0, invalid=0)
    with pytest.raises(ResultsNotReady):
        approve_results(db_session, clock, None, voted.chair, ref)
    with pytest.raises(ProtocolRefused) as err:
        confirm_protocol(db_session, clock, first, protocol)
    assert err.value.reason == "same_member"
    confirm_protocol(db_session, clock, second, protocol)
    with pytest.raises(ProtocolRefused):  # a confirmed protocol is final
        enter_protocol(db_session, clock, first, ref, station, ballots_issued=1, votes_for=0,
                       votes_against=1, invalid=0)


def _approved(db_session, clock, s):
    ref = _tally(db_session, clock, s)
    protocol = enter_protocol(db_session, clock, s.members[0], ref, s.station, ballots_issued=1,
                              votes_for=1, votes_against=0, invalid=0)
    confirm_protocol(db_session, clock, s.members[1], protocol)
    clock.advance(timedelta(days=2))
    return ref, approve_results(db_session, clock, None, s.chair, ref)


def test_art22_approved_result_combines_online_and_stations(db_session, clock, voted):
    """Art. 20(9)-(10), 21, 22(1)-(2): the commission approves the result from the internet
    tally and the confirmed station protocols, within 3 working days."""
    ref, result = _approved(db_session, clock, voted)
    assert (result.online_for, result.online_against, result.in_person_for) == (2, 1, 1)
    assert (result.participants, result.votes_for, result.votes_against) == (4, 3, 1)
    assert result.is_valid and result.is_passed  # 4 >= 9/3 and 3 > 4/2
    assert ref.stage == Stage.APPROVED and ref.case.state == "announced"
    assert ref.case.closed_at <= ref.results_due_at
    # Art. 24: the steps after a passed decision are on the case's timeline.
    steps = {e.data_dict["step"] for e in ref.case.events if e.kind == EventKind.STEP}
    assert {"council_considers", "council_adopts", "readopt_only_by_next_council"} <= steps
    with pytest.raises(WrongStage):
        approve_results(db_session, clock, None, voted.chair, ref)


def test_art12_suspension_of_the_council_decision_ends_with_the_results(db_session, clock,
                                                                         voted):
    voted.referendum.subject = "construction"
    ref, _result = _approved(db_session, clock, voted)
    ended = [e for e in ref.case.events if e.kind == EventKind.STEP
             and e.data_dict["step"] == "council_decision_suspension_ended"]
    assert len(ended) == 1 and ended[0].data_dict["basis"] == "Art. 12"


def test_art22_1_missing_base_figure_refuses_approval_and_records_nothing(db_session, clock,
                                                                         voted):
    """Art. 22(1): no base figure, no verdict: approval is refused, never "not valid"."""
    voted.municipality.voters_at_last_election = None
    ref = _tally(db_session, clock, voted)
    protocol = enter_protocol(db_session, clock, voted.members[0], ref, voted.station,
                              ballots_issued=1, votes_for=1, votes_against=0, invalid=0)
    confirm_protocol(db_session, clock, voted.members[1], protocol)
    with pytest.raises(ResultsNotReady) as err:
        approve_results(db_session, clock, None, voted.chair, ref)
    assert err.value.reason == "base_figure_missing"
    assert err.value.params["field"] == "voters_at_last_election"
    assert ref.stage == Stage.TALLIED and result_of(db_session, ref) is None
    voted.municipality.voters_at_last_election = 9
    assert approve_results(db_session, clock, None, voted.chair, ref).is_valid


def test_exported_record_passes_referendum_verify(db_session, clock, voted, tmp_path, capsys):
    ref, result = _approved(db_session, clock, voted)
    path = tmp_path / "record.json"
    with path.open("w", encoding="utf-8") as fp:
        write_election_record(db_session, ref, fp)
    record = json.loads(path.read_text())
    assert record["in_person"] == {"ballots_issued": 1, "counts": {"yes": 1, "no": 0},
                                   "invalid": 0, "protocol_sha256": result.protocol_sha256}
    assert [e["seq"] for e in record["board"]] == [1, 2, 3, 4, 5]
    for entry in record["board"]:
        assert verify_ballot(record["manifest"], entry["alias"], entry["ballot"]) == \
            entry["tracker"]
    capsys.readouterr()
    assert verify_main([str(path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Election record is VALID" in out
    for line in ("ballots on board     5", "superseded (re-vote) 1",
                 "excluded (in person) 1 on the board", "audited (not cast)   1",
                 "counted              3"):
        assert line in out, line
    assert "    yes  2\n    no   1\n" in out  # online result
    assert "yes  1   combined 3" in out and "no   0   combined 1" in out


def test_art22_1_a_zero_base_figure_is_missing_not_a_quorum_of_nobody(db_session, clock, voted):
    """Art. 22(1): no council election has nobody on its lists; a base figure of 0 is a figure
    nobody entered. Approval is refused as for a missing one, never judged "valid" by a quorum
    of 0 (Art. 8(1) refuses the same 0 for the signature threshold)."""
    voted.municipality.voters_at_last_election = 0
    ref = _tally(db_session, clock, voted)
    protocol = enter_protocol(db_session, clock, voted.members[0], ref, voted.station,
                              ballots_issued=1, votes_for=1, votes_against=0, invalid=0)
    confirm_protocol(db_session, clock, voted.members[1], protocol)
    with pytest.raises(ResultsNotReady) as err:
        approve_results(db_session, clock, None, voted.chair, ref)
    assert err.value.reason == "base_figure_missing"
    assert ref.stage == Stage.TALLIED and result_of(db_session, ref) is None
