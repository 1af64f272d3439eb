"""The navigation counts kept per person (``portal.work``): the person's own writes show at once
however they are made (two devices of one person, a read receipt over Socket.IO, a task run
within their request, the case API with their token), a failed request moves nothing, and the
home page's counts agree with its list. Found by an outside judge of the cache."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from messaging.models import Message
from portal.extensions import socketio
from portal.work import EPOCH_KEY
from referendum_core.initiatives import Initiative
from tests.conftest import login
from tests.portal.initiatives.test_signature_board_views import _collecting, _voter
from tests.portal.test_work import nav_counts
from tests.portal.test_work_cache import _thread


def _epoch(client):
    with client.session_transaction() as sess:
        return sess.get(EPOCH_KEY, 0)


def test_two_sessions_of_one_person_share_epoch_numbers(cached, db_session, clock, people,
                                                        login_as):
    """A desk and a phone of one official both reach epoch 1; the desk's own read must not meet
    the entry the phone computed (entries are per session, and an own write drops them)."""
    member, officer = people.member(), people.cvk_officer()
    first = _thread(db_session, clock, member, officer, "Pirmā")
    second = _thread(db_session, clock, member, officer, "Otrā")
    desk = login_as(officer)
    phone = cached.test_client()
    login(phone, officer, clock)
    assert "2 sarakstes ar nelasītām ziņām" in nav_counts(desk.get("/").get_data(as_text=True))
    phone.get(f"/messages/{first.id}")  # the phone reads one thread: its epoch 0 -> 1
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(phone.get("/").get_data(as_text=True))
    desk.get(f"/messages/{second.id}")  # the desk reads the other: its epoch 0 -> 1 too
    assert _epoch(desk) == _epoch(phone) == 1
    # Both threads are read now, by the person's own actions: no unread count should remain.
    shown = nav_counts(desk.get("/").get_data(as_text=True))
    assert not any("nelasīt" in c for c in shown), \
        shown


def test_a_read_receipt_over_socketio_shows_at_once(cached, db_session, clock, people,
                                                     login_as):
    """messages.js marks a message that arrives on an open thread page read over Socket.IO; the
    event cannot set the cookie's epoch, but it drops the person's kept counts."""
    member, officer = people.member(), people.cvk_officer()
    thread = _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(client.get("/").get_data(as_text=True))
    last = db_session.scalar(select(func.max(Message.id)).where(Message.thread_id == thread.id))
    sock = socketio.test_client(cached, flask_test_client=client)
    assert sock.emit("read", {"thread_id": thread.id, "message_id": last},
                     callback=True)["ok"] is True
    sock.disconnect()
    assert _epoch(client) == 0
    shown = nav_counts(client.get("/").get_data(as_text=True))
    assert not any("nelasīt" in c for c in shown), \
        shown


def test_the_signature_check_run_in_the_request_shows_at_once(cached, db_session, keys, clock, people,
                                                     login_as):
    """The chair's "check the signatures" writes nothing in the request's own session: the check
    runs as a task (here in-process, in its own transaction) whose writes count as the chair's."""
    initiative, resident, muni = _collecting(cached, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    for serial in (2, 3):
        assert login_as(_voter(db_session, keys, people, muni, serial)).post(
            f"{page}/sign").status_code == 302
    from portal.initiatives.tasks import publish_signature_boards, run_initiative_deadlines

    with cached.app_context():
        publish_signature_boards.delay()
    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with cached.app_context():
        run_initiative_deadlines.delay()
    assert login_as(resident).post(f"{page}/apply").status_code == 302
    chair = login_as(people.chair())
    before = nav_counts(chair.get("/").get_data(as_text=True))
    assert "1 gaida jūs" in before, before  # the check awaits the chair
    epoch = _epoch(chair)
    assert chair.post(f"{page}/check").status_code == 302
    db_session.expire_all()
    state = db_session.get(Initiative, initiative.id).case.state
    assert state != "applied", state  # the check ran to its end in the request
    fresh = cached.extensions["work_counts_cache"]
    after = nav_counts(chair.get("/").get_data(as_text=True))
    fresh.clear()
    truth = nav_counts(chair.get("/").get_data(as_text=True))
    assert _epoch(chair) != epoch
    assert after == truth, f"own action not shown: cached {after}, computed {truth}"


def test_a_failure_after_commit_moves_the_epoch_and_one_before_does_not(cached, db_session,
                                                                        clock, people, login_as):
    """A 500 after the request committed keeps the moved epoch (the write is there); a 500
    before the commit rolls back and moves nothing."""
    from flask_login import current_user

    from portal.database import commit

    def fail(after_commit: bool):
        current_user.display_name = current_user.display_name + "!"
        from portal.web import db
        db().flush()
        if after_commit:
            commit()
        raise RuntimeError("after the write")

    cached.add_url_rule("/test/fail-after", "test_fail_after", lambda: fail(True))
    cached.add_url_rule("/test/fail-before", "test_fail_before", lambda: fail(False))
    client = login_as(people.cvk_officer())
    client.get("/")
    assert client.get("/test/fail-before").status_code == 500
    assert _epoch(client) == 0
    assert client.get("/test/fail-after").status_code == 500
    assert _epoch(client) == 1


def test_a_transition_through_the_api_with_the_persons_token_shows_at_once(
        cached, db_session, clock, people, login_as):
    """A token acts as its owner: the member's dismissal through the case API is their own
    write, and their browser's next page no longer counts the case."""
    from portal.cases import tokens
    from tests.case_factories import report

    member = people.member()
    case = report(db_session, clock, people.observer())
    _row, plaintext = tokens.issue_service_token(db_session, clock, None, member, "Ādažu IS",
                                                 ["cases:read", "cases:write"])
    browser = login_as(member)
    assert "1 gaida jūs" in nav_counts(browser.get("/").get_data(as_text=True))
    api = cached.test_client()
    moved = api.post(f"/api/v1/cases/{case.id}/transitions",
                     headers={"Authorization": f"Bearer {plaintext}"},
                     json={"transition": "dismiss", "expected_version": case.version,
                           "note": "dublikāts"})
    assert moved.status_code == 200, moved.get_json()
    shown = nav_counts(browser.get("/").get_data(as_text=True))
    assert "1 gaida jūs" not in shown, shown


def test_the_home_page_counts_afresh_as_it_lists(cached, db_session, clock, people, login_as):
    """The home page lists the work itself: its counts must agree with its list, not be the
    counts kept from a page opened before someone else's write."""
    member, officer = people.member(), people.cvk_officer()
    _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(
        client.get("/cases").get_data(as_text=True))
    _thread(db_session, clock, member, officer, "Otrā")  # someone else's write
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(
        client.get("/cases").get_data(as_text=True))  # kept, within the period
    assert "2 sarakstes ar nelasītām ziņām" in nav_counts(client.get("/").get_data(as_text=True))
    assert "2 sarakstes ar nelasītām ziņām" in nav_counts(
        client.get("/cases").get_data(as_text=True))  # and kept so
