"""Threads, messages, edits, reads, case threads and refusals through the service functions."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from messaging import services
from messaging.exceptions import NotParticipant, Refused, ThreadClosed, UnsafeContent
from messaging.models import Message, Notification, NotificationKind, ReadState
from messaging.rules import Target, TargetKind, standing_of
from referendum_core.audit import AuditEntry
from referendum_core.organisation import Municipality


def _muni(session, atvk="0023000"):
    return session.scalars(select(Municipality).where(Municipality.atvk_code == atvk)).one()


def _refusals(session, reason=None):
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "messaging.refused")).all()
    return [r for r in rows if reason is None or r.detail_dict.get("reason") == reason]


def test_commission_member_writes_to_cvk_and_officers_read(db_session, clock, people):
    member, officer, admin = people.member(), people.cvk_officer(), people.cvk_admin()
    other_member = people.member("0001000")
    thread = services.create_thread(db_session, clock, member, subject="Iecirkņa telpas",
                                    text="Vai drīkstam pārcelt iecirkni?",
                                    targets=[Target(TargetKind.CVK)])
    assert services.is_participant(thread, member)
    assert services.is_participant(thread, officer)
    # CVK administrators read only when added in person; other commissions never.
    assert not services.is_participant(thread, admin)
    assert not services.is_participant(thread, other_member)
    assert services.subject_of(db_session, thread) == "Iecirkņa telpas"
    [message] = services.messages_of(db_session, thread)
    assert services.text_of(db_session, message) == "Vai drīkstam pārcelt iecirkni?"
    assert [t.id for t in services.threads_for(db_session, officer)] == [thread.id]
    assert services.threads_for(db_session, admin) == []
    assert services.unread_counts(db_session, officer, [thread.id]) == {thread.id: 1}
    assert services.unread_counts(db_session, member, [thread.id]) == {thread.id: 0}


def test_adding_cvk_admin_is_audited(db_session, clock, people):
    member, officer, admin = people.member(), people.cvk_officer(), people.cvk_admin()
    thread = services.create_thread(db_session, clock, member, subject="S", text="T",
                                    targets=[Target(TargetKind.CVK)])
    services.add_participant(db_session, clock, officer, thread, Target(
        TargetKind.PERSON, user_id=admin.id, person=standing_of(admin)))
    assert services.is_participant(thread, admin)
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "messaging.participant_added")).one()
    assert entry.detail_dict["is_cvk_admin"] is True


def test_rules_who_may_start_with_whom(db_session, clock, people):
    adazi, riga = _muni(db_session), _muni(db_session, "0001000")
    observer, voter = people.observer(), people.voter()
    # Observer -> commission of their municipality: yes; of another municipality: no.
    services.create_thread(db_session, clock, observer, subject="S", text="T",
                           targets=[Target(TargetKind.COMMISSION, municipality_id=adazi.id)])
    with pytest.raises(Refused) as err:
        services.create_thread(db_session, clock, observer, subject="S", text="T",
                               targets=[Target(TargetKind.COMMISSION, municipality_id=riga.id)])
    assert err.value.code == "not_allowed"
    # Voter -> their municipal commission only, never CVK.
    with pytest.raises(Refused):
        services.create_thread(db_session, clock, voter, subject="S", text="T",
                               targets=[Target(TargetKind.CVK)])
    with pytest.raises(Refused):
        services.create_thread(db_session, clock, voter, subject="S", text="T",
                               targets=[Target(TargetKind.COMMISSION, municipality_id=riga.id)],
                               voter_municipality_ids=[adazi.id])
    services.create_thread(db_session, clock, voter, subject="S", text="T",
                           targets=[Target(TargetKind.COMMISSION, municipality_id=adazi.id)],
                           voter_municipality_ids=[adazi.id])
    assert len(_refusals(db_session, "not_allowed")) == 3


def test_refusals_store_nothing_and_are_audited(db_session, clock, people):
    member, outsider = people.member(), people.member("0001000")
    thread = services.create_thread(db_session, clock, member, subject="S", text="T",
                                    targets=[Target(TargetKind.CVK)])
    count = db_session.scalar(select(Message.id).order_by(Message.id.desc()))
    with pytest.raises(NotParticipant):
        services.post_message(db_session, clock, outsider, thread, "ielaužos")
    with pytest.raises(UnsafeContent):
        services.post_message(db_session, clock, member, thread, "sveiki <script>alert(1)</script>")
    with pytest.raises(UnsafeContent):
        services.post_message(db_session, clock, member, thread, "[x](javascript:alert(1))")
    services.close_thread(db_session, clock, member, thread)
    with pytest.raises(ThreadClosed):
        services.post_message(db_session, clock, member, thread, "vēl viens")
    assert db_session.scalar(select(Message.id).order_by(Message.id.desc())) == count
    reasons = sorted(r.detail_dict["reason"] for r in _refusals(db_session))
    assert reasons == ["not_participant", "thread_closed", "unsafe_content", "unsafe_content"]


def test_edit_window_and_history(db_session, clock, people):
    member = people.member()
    thread = services.create_thread(db_session, clock, member, subject="S", text="pirmais",
                                    targets=[Target(TargetKind.CVK)])
    [message] = services.messages_of(db_session, thread)
    clock.advance(timedelta(minutes=2))
    services.edit_message(db_session, clock, member, message.id, "otrais")
    assert services.text_of(db_session, message) == "otrais"
    assert [t for _w, _r, t in services.revision_texts(db_session, message)] == ["pirmais"]
    clock.advance(timedelta(minutes=30))
    with pytest.raises(Refused) as err:
        services.edit_message(db_session, clock, member, message.id, "trešais")
    assert err.value.code == "edit_window_over"


def test_read_receipts_cancel_unread_notification(db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="S",
                                    text="Sveiki @" + officer.email.split("@")[0],
                                    targets=[Target(TargetKind.CVK)])
    rows = db_session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert sorted(r.kind for r in rows) == [NotificationKind.MENTION, NotificationKind.UNREAD]
    services.mark_read(db_session, clock, officer, thread)
    state = db_session.scalars(select(ReadState).where(ReadState.user_id == officer.id)).one()
    assert state.last_read_message_id > 0
    assert {r.status for r in rows} == {"cancelled"}
    assert services.unread_counts(db_session, officer, [thread.id]) == {thread.id: 0}


def test_case_thread_contract(db_session, clock, people):
    officer, chair, observer = people.cvk_officer(), people.chair(), people.observer()
    adazi = _muni(db_session)
    from referendum_core.cases.models import Case

    case = Case(type="complaint", state="new", municipality_id=adazi.id, title="t",
                opened_at=clock.now(), updated_at=clock.now())
    db_session.add(case)
    db_session.flush()
    thread = services.open_case_thread(db_session, clock, officer, case_id=case.id,
                                       subject="Sūdzība", municipality_id=adazi.id,
                                       participant_user_ids=[observer.id])
    again = services.open_case_thread(db_session, clock, None, case_id=case.id, subject="x",
                                      municipality_id=adazi.id, participant_user_ids=[observer.id])
    assert again.id == thread.id
    assert services.thread_for_case(db_session, case.id).id == thread.id
    assert all(services.is_participant(thread, u) for u in (officer, chair, observer))
    message = services.post_system_message(db_session, clock, thread.id, "Lieta pārvietota.")
    assert message.author_id is None
    assert services.text_of(db_session, message) == "Lieta pārvietota."
    assert services.unread_counts(db_session, chair, [thread.id])[thread.id] == 1
    blank = Case(type="complaint", state="new", municipality_id=adazi.id, title="t",
                 opened_at=clock.now(), updated_at=clock.now())
    db_session.add(blank)
    db_session.flush()
    untitled = services.open_case_thread(db_session, clock, officer, case_id=blank.id,
                                         subject="  ", municipality_id=adazi.id)
    # A blank subject is the case's reference, never "#<row id>".
    assert services.subject_of(db_session, untitled) == blank.reference


def test_search_only_in_own_threads(db_session, clock, people):
    member, outsider = people.member(), people.member("0001000")
    services.create_thread(db_session, clock, member, subject="S", text="Ādažu iecirknis Nr. 2",
                           targets=[Target(TargetKind.CVK)])
    hits = services.search_messages(db_session, member, "adazu IECIRKNIS")
    assert [h.text for h in hits] == ["Ādažu iecirknis Nr. 2"]
    assert services.search_messages(db_session, outsider, "iecirknis") == []


class _Statements:
    """Counts the SQL statements a block sends (a ``before_cursor_execute`` listener)."""

    def __init__(self, session):
        self.engine = session.get_bind().engine
        self.count = 0

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_unread_counts_take_one_query_however_many_threads(db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    threads = [services.create_thread(db_session, clock, member, subject=f"Jautājums {n}",
                                      text="Sveiki", targets=[Target(TargetKind.CVK)])
               for n in range(6)]
    services.mark_read(db_session, clock, officer, threads[0])
    services.post_message(db_session, clock, member, threads[1].id, "Vēl viens")
    services.post_message(db_session, clock, officer, threads[2].id, "Atbilde")
    db_session.flush()
    ids = [t.id for t in threads]
    with _Statements(db_session) as few:
        services.unread_counts(db_session, officer, ids[:2])
    with _Statements(db_session) as many:
        counts = services.unread_counts(db_session, officer, ids)
    assert few.count == many.count == 1
    # Own messages never count; read ones neither; threads without unread say 0.
    # (Posting "Atbilde" read thread 2 up to the officer's own message.)
    assert counts == {ids[0]: 0, ids[1]: 2, ids[2]: 0, ids[3]: 1, ids[4]: 1, ids[5]: 1}
    assert services.unread_counts(db_session, member, ids) == {
        ids[0]: 0, ids[1]: 0, ids[2]: 1, ids[3]: 0, ids[4]: 0, ids[5]: 0}
    assert services.unread_counts(db_session, officer, []) == {}
