"""The navigation counts kept a few seconds per person (``WORK_COUNTS_CACHE_SECONDS``): the
person's next pages reuse them, their own writes show at once (on any process: the epoch is in
their session), others' writes within the period, and a refused request moves nothing."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from messaging import services as messaging
from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.ttl_cache import TtlCache
from portal.work import EPOCH_KEY
from referendum_core.audit import AuditEntry
from referendum_core.organisation import CommissionKind, get_commission
from tests.case_factories import report
from tests.conftest import municipality
from tests.portal.test_work import nav_counts, query
from tests.register_data import code_for, referendum_case
from tests.statements import captured_statements

PERIOD = 10  # the kept counts' period (``cached`` in tests/conftest.py)


def _thread(db_session, clock, member, officer, subject):
    case = query(db_session, clock, member, title=subject)
    thread = messaging.open_case_thread(
        db_session, clock, member, case_id=case.id, subject=subject,
        municipality_id=case.municipality_id, participant_user_ids=[member.id, officer.id])
    messaging.post_message(db_session, clock, member, thread, "Sveiki, CVK!")
    db_session.commit()
    return thread


def test_the_next_page_reuses_the_counts_without_their_statements(cached, db_session, clock,
                                                                  people, login_as):
    member, officer = people.member(), people.cvk_officer()
    _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    client.get("/cases")
    with captured_statements(db_session) as first:
        client.get("/cases")
    cached.extensions["work_counts_cache"].clear()
    with captured_statements(db_session) as computed:
        html = client.get("/cases").get_data(as_text=True)
    assert len(first) < len(computed), "the cached page ran the counts' statements"
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(html)


def test_others_writes_show_within_the_period(cached, db_session, clock, people, login_as):
    member, officer = people.member(), people.cvk_officer()
    _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(client.get("/").get_data(as_text=True))
    _thread(db_session, clock, member, officer, "Otrā")  # someone else's write
    clock.advance(timedelta(seconds=PERIOD))
    assert "2 sarakstes ar nelasītām ziņām" in nav_counts(
        client.get("/").get_data(as_text=True))


def test_the_persons_own_write_shows_at_once(cached, db_session, clock, people, login_as):
    member, officer = people.member(), people.cvk_officer()
    thread = _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(client.get("/").get_data(as_text=True))
    with client.session_transaction() as before:
        epoch = before.get(EPOCH_KEY, 0)
    client.get(f"/messages/{thread.id}")  # reading the thread marks it read
    with client.session_transaction() as after:
        assert after[EPOCH_KEY] == epoch + 1
    assert not any("nelasīt" in count
                   for count in nav_counts(client.get("/").get_data(as_text=True)))


def test_a_refused_or_read_only_request_moves_no_epoch(cached, db_session, clock, people,
                                                       login_as):
    """A 4xx rolls its writes back; a voter lookup only writes its audit entry: neither
    changes anyone's work, so neither costs the person their kept counts."""
    muni = municipality(db_session)
    case_id = referendum_case(db_session, clock, muni)
    code = code_for(date(1980, 1, 1), 5)
    client = login_as(people.member())
    client.get("/")
    with client.session_transaction() as before:
        epoch = before.get(EPOCH_KEY, 0)
    assert client.get("/messages/999999").status_code == 403
    audited = db_session.scalar(select(func.count()).select_from(AuditEntry))
    assert client.post("/register/lookup", data={"case_id": case_id, "personal_code": code}
                       ).status_code == 200
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audited + 1
    with client.session_transaction() as after:
        assert after.get(EPOCH_KEY, 0) == epoch


def test_a_membership_granted_counts_at_once(cached, db_session, clock, people, login_as):
    """Another person's write, but one that changes what the person may see: not kept."""
    report(db_session, clock, people.observer())  # waits for the Ādaži commission
    riga = people.member("0001000")
    client = login_as(riga)
    assert nav_counts(client.get("/").get_data(as_text=True)) == []
    adazi = municipality(db_session, "0023000")
    accounts.grant_membership(db_session, clock, None, riga, Role.COMMISSION_MEMBER,
                              commission=get_commission(db_session, CommissionKind.MUNICIPAL,
                                                        adazi.id))
    db_session.commit()
    assert "1 gaida jūs" in nav_counts(client.get("/").get_data(as_text=True))


def test_each_language_and_person_has_its_own_counts(cached, db_session, clock, people,
                                                     login_as):
    member, officer = people.member(), people.cvk_officer()
    _thread(db_session, clock, member, officer, "Pirmā")
    client = login_as(officer)
    assert "1 sarakste ar nelasītām ziņām" in nav_counts(client.get("/").get_data(as_text=True))
    client.post("/lang/en")
    assert "1 thread with unread messages" in nav_counts(client.get("/").get_data(as_text=True))
    assert nav_counts(login_as(people.member("0001000")).get("/").get_data(as_text=True)) == []


def test_the_cache_is_bounded_and_a_period_of_zero_keeps_nothing():
    calls = []
    never = TtlCache(0)
    assert [never.get("k", lambda: calls.append(1) or len(calls)) for _ in range(2)] == [1, 2]
    assert len(never) == 0
    small = TtlCache(60, max_entries=3)
    for key in range(10):
        small.get(key, lambda key=key: key)
    assert len(small) <= 3
    assert small.get(9, lambda: "again") == 9
