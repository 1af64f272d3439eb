"""Posting a message does a small, fixed amount of database work (delivery p99 under
100 ms at 50 messages/s): the same statements for a thread of 3 and of 12 participants, with the
readers' unread notices inserted in one ``INSERT … SELECT`` rather than looked up and inserted
one by one, and no membership look-up for someone taking part in person."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from messaging import services
from messaging.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    ParticipantKind,
    Thread,
    ThreadParticipant,
)
from messaging.rules import Target, TargetKind
from portal.accounts import services as accounts
from referendum_core.organisation import CommissionKind, Municipality, get_commission
from tests.statements import captured_statements


def _post(client, db_session, thread_id, text):
    """POST as the live page does; the statements it sent (the test's savepoints left out)."""
    with captured_statements(db_session) as seen:
        answer = client.post(f"/messages/{thread_id}/post", data={"text": text},
                             headers={"X-Requested-With": "fetch", "Accept": "application/json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return seen, answer.get_json()["message_id"]


def _person(db_session, clock, name):
    return accounts.create_user(db_session, clock, None, email=f"{name}@example.lv",
                                display_name=name.title(), password=None)


def _pending(db_session, thread_id, kind=NotificationKind.UNREAD):
    db_session.expire_all()
    return sorted(db_session.scalars(select(Notification.user_id).where(
        Notification.thread_id == thread_id, Notification.kind == kind,
        Notification.status == NotificationStatus.PENDING)))


def _nothing_pending(db_session, thread_id):
    """As if every reader had read the thread: the next post owes each of them a notice."""
    db_session.execute(update(Notification).where(Notification.thread_id == thread_id)
                       .values(status=NotificationStatus.CANCELLED))
    db_session.commit()


def test_a_post_runs_the_same_statements_for_3_and_12_participants(client, login_as, db_session,
                                                                   clock, people):
    officer = people.cvk_officer()
    threads = {}
    for size in (3, 12):
        others = [_person(db_session, clock, f"p{size}x{i}") for i in range(size - 1)]
        threads[size] = (services.create_thread(
            db_session, clock, officer, subject=f"{size}", text="Sākums",
            targets=[Target(TargetKind.PERSON, user_id=u.id) for u in others]), others)
    login_as(officer)
    counts = {}
    for size, (thread, others) in threads.items():
        _post(client, db_session, thread.id, "pirmā")  # the first request of a thread warms up
        _nothing_pending(db_session, thread.id)
        clock.advance(timedelta(minutes=5))  # each post moves the thread's last activity
        owed, _ = _post(client, db_session, thread.id, "visi saņem paziņojumu")
        assert _pending(db_session, thread.id) == sorted(u.id for u in others)
        clock.advance(timedelta(minutes=5))
        again, last_id = _post(client, db_session, thread.id, "neviens jauns paziņojums")
        assert _pending(db_session, thread.id) == sorted(u.id for u in others)
        # The same writes: the thread's last activity and the poster's read position moved.
        db_session.expire_all()
        assert db_session.get(Thread, thread.id).last_message_at == clock.now()
        assert services.read_positions(db_session, thread)[officer.id] == last_id
        assert len(owed) == len(again), "\n".join(s[:100] for s in owed)
        counts[size] = owed
        # One INSERT … SELECT for every reader's notice; no look-up of the participants' rows
        # or memberships (the poster takes part in person), no per-reader statement.
        assert sum("INSERT INTO notification_outbox" in s for s in owed) == 1
        assert not any("FROM memberships" in s and "INSERT INTO" not in s for s in owed)
    assert len(counts[3]) == len(counts[12]), (counts[3], counts[12])
    # user, thread with participants, message, thread's last activity, poster's read position,
    # notices (these three in one statement on PostgreSQL), then the audit entry (head lock,
    # entry, head)
    postgresql = db_session.get_bind().dialect.name == "postgresql"
    assert len(counts[12]) <= (7 if postgresql else 9), counts[12]


def test_group_readers_get_notices_in_one_statement(client, login_as, db_session, clock, people):
    """A commission as participant: its active members read the thread and get its notices
    (a mention too), the author and other commissions' members do not."""
    officer, chair, member = people.cvk_officer(), people.chair(), people.member()
    retired = people.member()
    retired.is_active = False
    outsider = people.member("0001000")
    riga = db_session.scalars(select(Municipality.id).where(
        Municipality.atvk_code == "0023000")).one()
    thread = services.create_thread(
        db_session, clock, officer, subject="Komisijai", text="Sākums",
        targets=[Target(TargetKind.COMMISSION, municipality_id=riga)])
    db_session.commit()
    login_as(officer)
    _post(client, db_session, thread.id, "pirmā")
    _nothing_pending(db_session, thread.id)
    seen, _ = _post(client, db_session, thread.id, "komisijai, @" + member.email.split("@")[0])
    readers = sorted(u.id for u in (chair, member))
    assert _pending(db_session, thread.id) == readers
    assert _pending(db_session, thread.id, NotificationKind.MENTION) == [member.id]
    assert sum("INSERT INTO notification_outbox" in s for s in seen) == 2  # + mention
    assert services.thread_user_ids(db_session, thread) == {officer.id, *readers}
    assert retired.id not in readers and outsider.id not in readers


def test_cvk_admins_never_read_through_a_group(db_session, clock, people):
    """Even a group of every CVK role leaves the administrators out: they read a thread only
    when added in person (audited)."""
    admin, officer, member = people.cvk_admin(), people.cvk_officer(), people.member()
    thread = services.create_thread(db_session, clock, member, subject="CVK", text="Sveiki",
                                    targets=[Target(TargetKind.CVK)])
    db_session.add(ThreadParticipant(thread=thread, kind=ParticipantKind.GROUP, role=None,
                                     commission_id=get_commission(db_session,
                                                                  CommissionKind.CVK).id,
                                     added_at=clock.now()))
    db_session.flush()
    readers = services.thread_user_ids(db_session, thread)
    assert readers == {member.id, officer.id} and admin.id not in readers
    _nothing_pending(db_session, thread.id)
    services.post_message(db_session, clock, member, thread.id, "Vēl")
    assert _pending(db_session, thread.id) == [officer.id]
