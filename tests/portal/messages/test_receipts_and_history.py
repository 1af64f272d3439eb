"""Read receipts ("Read by", served for live pages) and the edit history of a message, through
HTTP: participants only, and both work without JavaScript."""
from __future__ import annotations

from sqlalchemy import select

from messaging import services
from messaging.models import Message
from messaging.rules import Target, TargetKind


def _thread(db_session, clock, member, text="Sveiki, CVK!"):
    thread = services.create_thread(db_session, clock, member, subject="Iecirkņa telpas",
                                    text=text, targets=[Target(TargetKind.CVK)])
    db_session.commit()
    return thread


def test_read_by_names_who_read_the_latest_message(client, login_as, db_session, clock,
                                                   people):
    member, officer = people.member(), people.cvk_officer()
    thread = _thread(db_session, clock, member)
    login_as(member)
    assert client.get(f"/messages/{thread.id}/read-by").get_json()["names"] == []
    services.mark_read(db_session, clock, officer, thread)
    db_session.commit()
    body = client.get(f"/messages/{thread.id}/read-by").get_json()
    assert body["names"] == [officer.display_name]
    assert body["text"] == f"Izlasījuši: {officer.display_name}"
    # Without JavaScript the thread page says the same after a reload.
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert f"Izlasījuši: {officer.display_name}" in page
    # A newer message is not read by the officer yet.
    services.post_message(db_session, clock, member, thread.id, "Vēl viens jautājums")
    db_session.commit()
    assert client.get(f"/messages/{thread.id}/read-by").get_json()["names"] == []


def test_read_by_is_for_participants_only(client, login_as, db_session, clock, people):
    member, outsider = people.member(), people.member("0001000")
    thread = _thread(db_session, clock, member)
    login_as(outsider)
    assert client.get(f"/messages/{thread.id}/read-by").status_code == 403


def test_edit_history_shows_earlier_versions_to_participants(client, login_as, db_session,
                                                             clock, people):
    member, officer, outsider = people.member(), people.cvk_officer(), people.member("0001000")
    thread = _thread(db_session, clock, member, text="pirmais teksts")
    message = db_session.scalars(select(Message).where(Message.thread_id == thread.id)).one()
    login_as(member)
    assert client.post(f"/messages/{thread.id}/m/{message.id}/edit",
                       data={"text": "otrais teksts"}).status_code == 302
    assert client.post(f"/messages/{thread.id}/m/{message.id}/edit",
                       data={"text": "trešais **teksts**"}).status_code == 302
    login_as(officer)
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    history_url = f"/messages/{thread.id}/m/{message.id}/history"
    assert f'href="{history_url}"' in page and "pirmais teksts" not in page
    history = client.get(history_url)
    assert history.status_code == 200
    html = history.get_data(as_text=True)
    # Current text first, then earlier versions newest first.
    assert html.index("trešais <strong>teksts</strong>") < html.index("otrais teksts") \
        < html.index("pirmais teksts")
    assert html.count('data-testid="version-body"') == 2
    login_as(outsider)
    assert client.get(history_url).status_code == 403
    other = _thread(db_session, clock, outsider, text="cits")
    other_message = db_session.scalars(select(Message).where(
        Message.thread_id == other.id)).one()
    login_as(member)
    assert client.get(f"/messages/{thread.id}/m/{other_message.id}/history").status_code == 404


def test_unedited_message_has_no_history_link(client, login_as, db_session, clock, people):
    member = people.member()
    thread = _thread(db_session, clock, member)
    message = db_session.scalars(select(Message).where(Message.thread_id == thread.id)).one()
    login_as(member)
    assert 'data-testid="history-link"' not in client.get(f"/messages/{thread.id}").get_data(
        as_text=True)
    page = client.get(f"/messages/{thread.id}/m/{message.id}/history").get_data(as_text=True)
    assert 'data-testid="version-body"' not in page
