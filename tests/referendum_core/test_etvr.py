"""ETVR marks: one per voter per referendum, atomically (VRL 19; Art. 17(2)-(3))."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from referendum_core.audit import AuditEntry
from referendum_core.cases.models import Case
from referendum_core.etvr import AlreadyVoted, EtvrMark, find_mark, lookup_voter, mark_voted
from referendum_core.organisation import add_polling_station
from referendum_core.personal_code import InvalidPersonalCode
from referendum_core.register import IneligibilityReason, freeze_voter_list
from tests.conftest import municipality
from tests.register_data import add_person, code_for, referendum_case

BORN = date(1970, 6, 1)


@pytest.fixture()
def setting(db_session, clock):
    adazi = municipality(db_session)
    one = add_polling_station(db_session, adazi, 901, "Skola", "Gaujas iela 1")
    two = add_polling_station(db_session, adazi, 902, "Kultūras nams", "Gaujas iela 2")
    return adazi, one, two, referendum_case(db_session, clock, adazi)


def test_art17_mark_is_set_once_and_second_station_is_told_where_and_when(
        db_session, clock, keys, setting):
    """Art. 17(2)-(3): one mark in the ETVR; another station is told where and when."""
    adazi, one, two, case_id = setting
    ref = keys.personal_codes.lookup_hash(code_for(BORN))
    mark = mark_voted(db_session, clock, None, case_id, ref, polling_station=one)
    assert mark.where == str(one.id)
    with pytest.raises(AlreadyVoted) as err:
        mark_voted(db_session, clock, None, case_id, ref, polling_station=two)
    assert err.value.mark.polling_station_id == one.id
    assert err.value.mark.marked_at == clock.now()
    with pytest.raises(AlreadyVoted):
        mark_voted(db_session, clock, None, case_id, ref, polling_station=None)
    actions = [e.action for e in db_session.query(AuditEntry).order_by(AuditEntry.seq)]
    assert actions[-3:] == ["etvr.marked", "etvr.mark_refused", "etvr.mark_refused"]


def test_online_mark_says_online(db_session, clock, keys, setting):
    _, _, _, case_id = setting
    ref = keys.personal_codes.lookup_hash(code_for(BORN, 5))
    assert mark_voted(db_session, clock, None, case_id, ref, polling_station=None).where == \
        "online"


def test_lookup_shows_eligibility_and_where_already_voted(db_session, clock, keys, setting):
    adazi, one, _, case_id = setting
    code = code_for(BORN, 7)
    add_person(db_session, keys.personal_codes, code, born=BORN, municipality=adazi)
    status = lookup_voter(db_session, keys.personal_codes, code, case_id=case_id,
                          municipality_id=adazi.id, on_day=date(2026, 3, 2))
    assert status.eligibility.is_eligible and not status.has_voted
    mark_voted(db_session, clock, None, case_id, status.person_ref, polling_station=one)
    status = lookup_voter(db_session, keys.personal_codes, code, case_id=case_id,
                          municipality_id=adazi.id, on_day=date(2026, 3, 2))
    assert status.has_voted and status.mark.polling_station_id == one.id


def test_art7_2_lookup_uses_the_frozen_list(db_session, clock, keys, setting):
    adazi, _, _, case_id = setting
    early, late = code_for(BORN, 8), code_for(BORN, 9)
    add_person(db_session, keys.personal_codes, early, born=BORN, municipality=adazi)
    freeze_voter_list(db_session, clock, None, adazi, date(2026, 3, 2), case_id=case_id)
    add_person(db_session, keys.personal_codes, late, born=BORN, municipality=adazi)
    found = lookup_voter(db_session, keys.personal_codes, early, case_id=case_id,
                         municipality_id=adazi.id, on_day=date(2026, 6, 6))
    assert found.eligibility.is_eligible and found.from_frozen_list
    moved_in = lookup_voter(db_session, keys.personal_codes, late, case_id=case_id,
                            municipality_id=adazi.id, on_day=date(2026, 6, 6))
    assert moved_in.eligibility.reasons == (IneligibilityReason.NOT_ON_LIST,)


def test_lookup_with_invalid_personal_code_is_refused(db_session, keys, setting):
    adazi, _, _, case_id = setting
    with pytest.raises(InvalidPersonalCode):
        lookup_voter(db_session, keys.personal_codes, "123456-12345", case_id=case_id,
                     municipality_id=adazi.id, on_day=date(2026, 3, 2))


# Two real connections -----------------------------------------------------------------------

@pytest.fixture()
def committed_case(engine, clock):
    with Session(engine) as session:
        adazi = municipality(session)
        case_id = referendum_case(session, clock, adazi)
        session.commit()
    yield case_id
    with Session(engine) as session:
        session.execute(delete(EtvrMark).where(EtvrMark.case_id == case_id))
        session.execute(delete(Case).where(Case.id == case_id))
        session.commit()


def test_art17_two_connections_one_mark_one_refusal(engine, clock, committed_case):
    ref = "c" * 64
    with Session(engine) as first, Session(engine) as second:
        mark_voted(first, clock, None, committed_case, ref, polling_station=None)
        first.commit()
        with pytest.raises(AlreadyVoted) as err:
            mark_voted(second, clock, None, committed_case, ref, polling_station=None)
        second.commit()  # the refusal's audit entry is kept
        assert err.value.mark.channel == "online"


def test_art17_two_stations_at_the_same_moment(engine, clock, committed_case):
    """Both transactions insert before either commits: the database admits one."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with a database lock; PostgreSQL in CI")
    ref = "d" * 64
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def station() -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                mark_voted(session, clock, None, committed_case, ref, polling_station=None)
                session.commit()
                outcomes.append("marked")
            except AlreadyVoted:
                session.commit()
                outcomes.append("refused")

    threads = [threading.Thread(target=station) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["marked", "refused"]
    with Session(engine) as session:
        assert find_mark(session, committed_case, ref) is not None
