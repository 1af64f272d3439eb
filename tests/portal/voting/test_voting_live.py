"""Live turnout over Socket.IO (namespace /voting): a cast or an in-person mark pushes the board
head to the public room and aggregate turnout to those who may follow it; never a choice or an
alias; at most one push per second per referendum."""
from __future__ import annotations

import json
from datetime import timedelta

from portal.extensions import socketio
from portal.voting import live
from referendum_core.voting.models import BoardEntry
from tests.voting_support import POLLS_OPEN, YES_VOTE

NS = "/voting"
TURNOUT_KEYS = {"referendum_id", "board_seq", "board_head", "stage", "eligible",
                "online_voters", "in_person", "participants"}


def _socket(app, flask_client, referendum_id):
    sock = socketio.test_client(app, namespace=NS, flask_test_client=flask_client)
    assert sock.is_connected(NS)
    answer = sock.emit("join", {"referendum_id": referendum_id}, callback=True, namespace=NS)
    sock.get_received(NS)
    return sock, answer


def _events(sock, name):
    return [e["args"][0] for e in sock.get_received(NS) if e["name"] == name]


def _cast(client, scenario, voter):
    ballot = scenario.ballot(voter, YES_VOTE)
    scenario.session.commit()
    answer = client.post(f"/api/voting/{scenario.referendum.id}/ballots",
                         data=json.dumps(ballot), content_type="application/json")
    assert answer.status_code == 201
    return ballot


def test_a_cast_pushes_turnout_to_observers_and_the_head_to_everyone(
        app, client, login_as, scenario, people, db_session):
    ref = scenario.referendum
    public, answer = _socket(app, app.test_client(), ref.id)
    assert answer == {"ok": True, "rooms": [f"referendum:{ref.id}"]}
    login_as(people.observer())
    observer, answer = _socket(app, client, ref.id)
    assert answer["rooms"] == [f"referendum:{ref.id}", f"referendum:{ref.id}:turnout"]
    voter = scenario.voters[0]
    login_as(voter)
    ballot = _cast(client, scenario, voter)
    entry = db_session.query(BoardEntry).filter_by(referendum_id=ref.id).one()
    turnout = _events(observer, live.TURNOUT_EVENT)
    assert len(turnout) == 1 and set(turnout[0]) == TURNOUT_KEYS
    assert (turnout[0]["online_voters"], turnout[0]["in_person"], turnout[0]["eligible"],
            turnout[0]["board_seq"]) == (1, 0, 4, 1)
    assert turnout[0]["board_head"] == entry.head
    heads = _events(public, live.HEAD_EVENT)
    assert heads == [{"referendum_id": ref.id, "board_seq": 1, "board_head": entry.head,
                      "stage": "voting"}]
    assert _events(public, live.TURNOUT_EVENT) == []  # figures only for those who may see them
    # No choice data: no alias, tracker, ciphertext or choice id in anything pushed.
    pushed = json.dumps(turnout + heads)
    for secret in (entry.alias, entry.tracker, ballot["choices"][0]["alpha"], '"yes"', '"no"'):
        assert secret not in pushed
    public.disconnect(NS)
    observer.disconnect(NS)


def test_pushes_are_debounced_to_one_per_second_per_referendum(
        app, client, login_as, scenario, people, monkeypatch):
    ref = scenario.referendum
    now = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: now[0])
    public, _ = _socket(app, app.test_client(), ref.id)
    login_as(scenario.voters[0])
    _cast(client, scenario, scenario.voters[0])
    now[0] += 0.4
    login_as(scenario.voters[1])
    _cast(client, scenario, scenario.voters[1])
    assert [e["board_seq"] for e in _events(public, live.HEAD_EVENT)] == [1]
    now[0] += 0.7
    login_as(scenario.voters[2])
    _cast(client, scenario, scenario.voters[2])
    assert [e["board_seq"] for e in _events(public, live.HEAD_EVENT)] == [3]
    public.disconnect(NS)


def test_an_in_person_mark_pushes_turnout(app, client, login_as, scenario, clock):
    ref, s = scenario.referendum, scenario
    clock.set(POLLS_OPEN + timedelta(hours=1))
    login_as(s.members[0])
    member, answer = _socket(app, client, ref.id)
    assert len(answer["rooms"]) == 2
    marked = client.post(f"/voting/{ref.id}/station", data={
        "station_id": s.station.id, "personal_code": s.codes[0], "action": "mark"})
    assert marked.status_code == 200
    turnout = _events(member, live.TURNOUT_EVENT)
    assert len(turnout) == 1 and turnout[0]["in_person"] == 1
    assert s.codes[0] not in json.dumps(turnout)
    member.disconnect(NS)


def test_a_refused_cast_pushes_nothing_and_unknown_referendums_cannot_be_joined(
        app, client, login_as, scenario, clock):
    ref = scenario.referendum
    public, _ = _socket(app, app.test_client(), ref.id)
    _, answer = _socket(app, app.test_client(), 999_999)
    assert answer == {"ok": False, "error": "not_found"}
    login_as(scenario.voters[0])
    refused = client.post(f"/api/voting/{ref.id}/ballots", data="{}",
                          content_type="application/json")
    assert refused.status_code == 422
    assert _events(public, live.HEAD_EVENT) == []
    public.disconnect(NS)


def test_pages_carry_the_live_hooks_without_inline_script(app, scenario, login_as, people):
    ref = scenario.referendum
    public = app.test_client()
    html = public.get(f"/voting/{ref.id}/results").get_data(as_text=True)
    assert 'id="live"' in html and 'data-live="board_head"' in html
    assert 'data-live="online_voters"' not in html  # the public sees the board, not turnout
    assert "socket.io.min.js" in html and "js/voting.js" in html and "<script>" not in html
    board = public.get(f"/voting/{ref.id}/board").get_data(as_text=True)
    assert 'data-live="board_seq"' in board
    observer = login_as(people.observer())
    html = observer.get(f"/voting/{ref.id}/results").get_data(as_text=True)
    assert 'data-live="online_voters"' in html
