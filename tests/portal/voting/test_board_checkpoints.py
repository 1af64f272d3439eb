"""Witnessed board heads in the portal (docs/spec/checkpoints.md): opening the vote puts the
board's checkpoint key in the manifest; beat signs the board while voting and the close signs
it again; checkpoints reach the public board page, Socket.IO viewers and the election record,
which referendum-verify checks against them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import checkpoints as portal_checkpoints
from portal.extensions import socketio
from referendum_core.audit import AuditEntry
from referendum_core.checkpoints import SignedCheckpoint
from referendum_core.crypto.checkpoint import board_log
from referendum_core.crypto.verify import verify_record
from referendum_core.crypto.witness import BoardWitness, WitnessFailure
from referendum_core.voting import accept_trustee_share
from tests.voting_support import AFTER_CLOSE, NO_VOTE, ONLINE_MONDAY, YES_VOTE, build_scenario

NS = "/voting"


@pytest.fixture()
def opened(app, db_session, clock, keys, login_as):
    """A referendum opened through the portal (so with the portal's checkpoint key)."""
    s = build_scenario(db_session, clock, keys, open_now=False)
    db_session.commit()
    chair = login_as(s.chair)
    assert chair.post(f"/voting/{s.referendum.id}/open").status_code == 302
    db_session.refresh(s.referendum)
    clock.set(ONLINE_MONDAY)
    return s


def _board_rows(db_session, referendum):
    return db_session.scalars(select(SignedCheckpoint).where(
        SignedCheckpoint.log == board_log(referendum.election_id))
        .order_by(SignedCheckpoint.id)).all()


def _cast(client, s, voter, choice):
    ballot = s.ballot(voter, choice)
    s.session.commit()
    answer = client.post(f"/api/voting/{s.referendum.id}/ballots", data=json.dumps(ballot),
                         content_type="application/json")
    assert answer.status_code == 201


def test_opening_puts_the_key_in_the_manifest_and_checkpoints_the_empty_board(
        app, opened, db_session):
    ref = opened.referendum
    with app.app_context():
        key = portal_checkpoints.election_public_key(ref.election_id)
    assert ref.manifest_dict["checkpoint_key"] == key
    [first] = _board_rows(db_session, ref)
    assert (first.seq, first.head, first.key) == (0, "0" * 64, key)
    # The stage change also checkpointed the audit log, after the commit that recorded it.
    audit_checkpoint = db_session.scalars(select(SignedCheckpoint).where(
        SignedCheckpoint.log == "audit").order_by(SignedCheckpoint.seq.desc())).first()
    opened_entry = db_session.scalars(select(AuditEntry).where(  # this test's: the latest
        AuditEntry.action == "voting.opened").order_by(AuditEntry.seq.desc())).first()
    assert audit_checkpoint.seq >= opened_entry.seq
    assert audit_checkpoint.head == db_session.get(AuditEntry, audit_checkpoint.seq).entry_hash


def test_beat_signs_boards_while_voting_and_pushes_to_viewers(app, opened, login_as,
                                                               db_session):
    ref = opened.referendum
    viewer = socketio.test_client(app, namespace=NS, flask_test_client=app.test_client())
    viewer.emit("join", {"referendum_id": ref.id}, callback=True, namespace=NS)
    viewer.get_received(NS)
    voter = login_as(opened.voters[0])
    _cast(voter, opened, opened.voters[0], YES_VOTE)
    with app.app_context():
        portal_checkpoints.sign_boards.delay()
    db_session.refresh(ref)
    pushed = [e["args"][0] for e in viewer.get_received(NS)
              if e["name"] == portal_checkpoints.CHECKPOINT_EVENT]
    assert len(pushed) == 1
    assert (pushed[0]["referendum_id"], pushed[0]["seq"], pushed[0]["head"]) == (
        ref.id, 1, ref.board_head)
    viewer.disconnect(NS)
    page = app.test_client().get(f"/voting/{ref.id}/board").get_data(as_text=True)
    assert 'data-testid="board-checkpoints"' in page and pushed[0]["signature"] in page
    listed = app.test_client().get(f"/voting/{ref.id}/checkpoints.json").get_json()
    assert listed["key"] == ref.manifest_dict["checkpoint_key"]
    assert [c["seq"] for c in listed["checkpoints"]] == [0, 1]
    file_lines = open(app.config["CHECKPOINT_LOG_FILE"]).read().splitlines()
    assert any(json.loads(line)["signature"] == pushed[0]["signature"] for line in file_lines)


def test_the_record_carries_the_checkpoints_through_to_the_close(app, opened, login_as,
                                                                  db_session, clock):
    ref, s = opened.referendum, opened
    _cast(login_as(s.voters[0]), s, s.voters[0], YES_VOTE)
    with app.app_context():
        portal_checkpoints.sign_boards.delay()
    observer_copy = app.test_client().get(f"/voting/{ref.id}/checkpoints.json").get_json()
    _cast(login_as(s.voters[1]), s, s.voters[1], NO_VOTE)
    clock.set(AFTER_CLOSE)
    assert login_as(s.chair).post(f"/voting/{ref.id}/close").status_code == 302
    db_session.refresh(ref)
    closing = _board_rows(db_session, ref)[-1]
    assert (closing.seq, closing.head) == (2, ref.board_head)  # signed at the close
    clock.set(AFTER_CLOSE + timedelta(minutes=5))
    for i, trustee in enumerate(s.trustees):
        accept_trustee_share(db_session, clock, trustee, ref, json.dumps(s.partial(i)))
    db_session.commit()
    record = app.test_client().get(f"/voting/{ref.id}/record.json").get_json()
    # Opening, beat, close, and the tally's stage change (the board frozen since the close).
    assert [c["seq"] for c in record["checkpoints"]] == [0, 1, 2, 2]
    assert list(record).index("checkpoints") < list(record).index("board")
    summary = verify_record(record, witness=BoardWitness(external=observer_copy["checkpoints"]))
    assert summary.witnessed_heads == 6 and summary.counted == 2
    # A record whose board was cut back to the first ballot is not what the observer kept.
    cut = {**record, "board": record["board"][:1], "board_head": observer_copy[
        "checkpoints"][1]["head"]}
    cut.pop("checkpoints")
    with pytest.raises(WitnessFailure, match="fewer than"):
        verify_record(cut, witness=BoardWitness(external=[c for c in record["checkpoints"]
                                                          if c["seq"] == 2][:1]))


def test_a_savepoint_queues_no_checkpoint_the_outermost_commit_does(opened, db_session,
                                                                     monkeypatch):
    """SQLAlchemy reports a savepoint's release as a commit: a checkpoint written then, on
    another connection, waited for the lock the outer transaction still held (``make run``'s
    seed casts its demo ballots inside savepoints)."""
    queued: list[list[int]] = []
    monkeypatch.setattr(portal_checkpoints.sign_after_stage_change, "delay", queued.append)
    referendum = opened.referendum
    with db_session.begin_nested():
        referendum.stage = "counting"
    assert queued == []
    db_session.commit()
    assert queued == [[referendum.id]]
