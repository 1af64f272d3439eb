"""The election record download is streamed (manifest first, then one board entry per line,
through the one serialiser in ``crypto.record``) and passes ``referendum-verify``."""
from __future__ import annotations

import json
from datetime import timedelta

from referendum_core.crypto.board import EMPTY_HEAD, board_head
from referendum_core.crypto.verify_cli import main as verify_main
from referendum_core.voting import (
    accept_trustee_share,
    approve_results,
    cast_ballot,
    close_polls,
    confirm_protocol,
    enter_protocol,
    iter_election_record,
    mark_in_person,
)
from tests.voting_support import (
    AFTER_CLOSE,
    NO_VOTE,
    ONLINE_MONDAY,
    POLLS_OPEN,
    YES_VOTE,
    build_scenario,
)


def _approved(db_session, clock, keys):
    s = build_scenario(db_session, clock, keys)
    ref, (v0, v1, v2, v3) = s.referendum, s.voters
    clock.set(ONLINE_MONDAY)
    for voter, choice in ((v0, YES_VOTE), (v1, NO_VOTE), (v2, YES_VOTE), (v1, YES_VOTE),
                          (v3, NO_VOTE)):
        cast_ballot(db_session, clock, voter, ref, s.ballot(voter, choice))
    clock.set(POLLS_OPEN + timedelta(hours=1))
    mark_in_person(db_session, clock, s.members[0], ref, s.station, s.codes[2],
                   keys.personal_codes)
    clock.set(AFTER_CLOSE)
    close_polls(db_session, clock, None, s.chair, ref)
    for i, trustee in enumerate(s.trustees):
        accept_trustee_share(db_session, clock, trustee, ref, json.dumps(s.partial(i)))
    protocol = enter_protocol(db_session, clock, s.members[0], ref, s.station, ballots_issued=1,
                              votes_for=1, votes_against=0, invalid=0)
    confirm_protocol(db_session, clock, s.members[1], protocol)
    approve_results(db_session, clock, None, s.chair, ref)
    db_session.commit()
    return s


def test_streamed_record_has_the_right_headers_and_passes_referendum_verify(
        app, db_session, clock, keys, tmp_path, capsys):
    s = _approved(db_session, clock, keys)
    answer = app.test_client().get(f"/voting/{s.referendum.id}/record.json")
    assert answer.status_code == 200 and answer.is_streamed
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="election-record-{s.referendum.election_id}.json"' in disposition
    text = answer.get_data(as_text=True)
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1].startswith('"manifest":')
    board = [json.loads(line.rstrip(",")) for line in lines if line.startswith('{"seq"')]
    assert [e["seq"] for e in board] == [1, 2, 3, 4, 5]  # one board entry per line
    path = tmp_path / "record.json"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert verify_main([str(path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Election record is VALID" in out and "counted              3" in out


def test_a_record_streamed_while_voting_goes_on_is_a_consistent_snapshot(db_session, clock,
                                                                         keys):
    s = build_scenario(db_session, clock, keys)
    ref = s.referendum
    clock.set(ONLINE_MONDAY)
    cast_ballot(db_session, clock, s.voters[0], ref, s.ballot(s.voters[0], YES_VOTE))
    pieces = iter_election_record(db_session, ref)
    first = next(pieces)
    # A ballot cast while the download runs is not in it; the head covers what is.
    cast_ballot(db_session, clock, s.voters[1], ref, s.ballot(s.voters[1], NO_VOTE))
    record = json.loads(first + "".join(pieces))
    assert [e["seq"] for e in record["board"]] == [1]
    head = EMPTY_HEAD
    for entry in record["board"]:
        head = board_head(head, bytes.fromhex(entry["tracker"]))
    assert record["board_head"] == head.hex() != ref.board_head
