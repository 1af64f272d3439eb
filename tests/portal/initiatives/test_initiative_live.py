"""The signature board's count pushed over Socket.IO (namespace /initiatives): a page joins
the initiative's public room once its page could be seen, and each committed batch of the
board tells the room (the initiative and the board's length, nothing about any person); the
page then fetches the count as its poll does. A batch with nothing to publish, or an
initiative the public may not see yet, tells no one."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from portal.extensions import socketio
from portal.initiatives.services import BOARD_EVENT
from portal.initiatives.tasks import publish_signature_boards, run_initiative_deadlines
from referendum_core.initiatives import Initiative
from tests.conftest import municipality
from tests.portal.initiatives.test_signature_board_views import _collecting, _voter

NS = "/initiatives"


def _socket(app, flask_client, initiative_id):
    sock = socketio.test_client(app, namespace=NS, flask_test_client=flask_client)
    assert sock.is_connected(NS)
    answer = sock.emit("join", {"initiative_id": initiative_id}, callback=True, namespace=NS)
    sock.get_received(NS)
    return sock, answer


def _events(sock):
    return [e["args"][0] for e in sock.get_received(NS) if e["name"] == BOARD_EVENT]


def _publish(app, db_session) -> int:
    with app.app_context():
        published = publish_signature_boards.delay().get()
    db_session.expire_all()
    return published


def test_a_published_batch_is_pushed_to_the_initiatives_public_room(
        app, login_as, people, db_session, keys, clock):
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    public, answer = _socket(app, app.test_client(), initiative.id)
    assert answer == {"ok": True, "rooms": [f"initiative:{initiative.id}"]}

    assert login_as(resident).post(f"{page}/sign").status_code == 302
    assert login_as(_voter(db_session, keys, people, muni, 2)).post(
        f"{page}/sign").status_code == 302
    assert _events(public) == []  # a signature waits for the batch; so does the push
    assert _publish(app, db_session) == 2
    assert _events(public) == [{"initiative_id": initiative.id, "board_seq": 2}]
    # nothing pending: no batch, no push
    assert _publish(app, db_session) == 0
    assert _events(public) == []
    # what the page then fetches
    count = login_as(resident).get(f"{page}/board/count.json").get_json()
    assert count["count"] == 2


def test_the_page_shows_what_it_needs_to_follow_the_board(
        app, login_as, people, db_session, keys, clock):
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    body = login_as(resident).get(f"/initiatives/{initiative.id}").get_data(as_text=True)
    assert f'data-initiative-id="{initiative.id}"' in body
    assert "socket.io.min.js" in body and "board-count.js" in body


def test_an_initiative_the_public_may_not_see_has_no_room(app, login_as, people, db_session,
                                                          keys):
    muni = municipality(db_session)
    resident = _voter(db_session, keys, people, muni, 1)
    web = login_as(resident)
    web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    initiative = db_session.query(Initiative).one()  # not decided: not public
    _public, answer = _socket(app, app.test_client(), initiative.id)
    # answered as every socket refusal: the code and a translated sentence (Latvian default)
    assert answer == {"ok": False, "code": "not_found", "reason": "not_found", "status": 404,
                      "error": "Šī iniciatīva nav atrasta vai nav publiska."}
    _sock, answer = _socket(app, app.test_client(), initiative.id + 1000)
    assert answer["ok"] is False and answer["code"] == "not_found"
    assert answer["error"] == "Šī iniciatīva nav atrasta vai nav publiska."
    # its applicant sees the page, so may follow it
    _own, answer = _socket(app, web, initiative.id)
    assert answer["ok"] is True


def test_a_join_without_an_initiative_id_is_refused(app):
    sock = socketio.test_client(app, namespace=NS)
    for payload in ({}, {"initiative_id": "x"}, {"initiative_id": -1}, "1"):
        answer = sock.emit("join", payload, callback=True, namespace=NS)
        assert answer["ok"] is False and answer["code"] == "bad_payload"


def test_a_batch_below_the_minimum_waits_and_the_count_does_not_say_it_waits(
        app, login_as, people, db_session, keys, clock):
    """A watcher who saw a person sign learns nothing from the board: no batch smaller than
    SIGNATURE_BOARD_MIN_BATCH is published (nor pushed) while signing is open, and the public
    count does not say how many wait."""
    app.config["SIGNATURE_BOARD_MIN_BATCH"] = 3
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    public, _answer = _socket(app, app.test_client(), initiative.id)
    assert login_as(resident).post(f"{page}/sign").status_code == 302
    anonymous = app.test_client()
    count = anonymous.get(f"{page}/board/count.json").get_json()
    assert count["count"] == 0 and "pending" not in count
    assert "gaida" not in json.dumps(count, ensure_ascii=False)
    assert _publish(app, db_session) == 0 and _events(public) == []
    for serial in (2, 3):
        assert login_as(_voter(db_session, keys, people, muni, serial)).post(
            f"{page}/sign").status_code == 302
    assert _publish(app, db_session) == 3
    assert _events(public) == [{"initiative_id": initiative.id, "board_seq": 3}]


def test_the_commissions_check_pushes_what_it_publishes(app, login_as, people, db_session,
                                                        keys, clock):
    """Art. 13: the check publishes everything still waiting, however few, and its
    publication is pushed to the open pages as the beat task's is."""
    app.config["SIGNATURE_BOARD_MIN_BATCH"] = 10
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    for person in (resident, _voter(db_session, keys, people, muni, 2)):
        assert login_as(person).post(f"{page}/sign").status_code == 302
    assert _publish(app, db_session) == 0
    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    with app.app_context():
        run_initiative_deadlines.delay()
    db_session.expire_all()
    assert login_as(resident).post(f"{page}/apply").status_code == 302
    public, _answer = _socket(app, app.test_client(), initiative.id)
    assert login_as(people.chair()).post(f"{page}/check").status_code == 302
    db_session.expire_all()
    assert db_session.get(Initiative, initiative.id).valid_signatures == 2
    assert _events(public) == [{"initiative_id": initiative.id, "board_seq": 2}]
    count = app.test_client().get(f"{page}/board/count.json").get_json()
    assert count["count"] == 2
