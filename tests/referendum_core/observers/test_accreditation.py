"""Observer accreditation (Art. 18(3), 20(3)): the initiators name observers for polling
stations, at most two per station per initiator; the commission approves or rejects; CVK and
commission members and the media are recorded; rights run through the referendum's days."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from referendum_core.audit import AuditEntry
from referendum_core.cases.exceptions import NotAllowed
from referendum_core.cases.models import CaseType
from referendum_core.cases.services import transition_case
from referendum_core.cases.workflows import REGISTRY, Party
from referendum_core.initiatives import initiative_of_referendum
from referendum_core.observers import (
    OBSERVER_ACCREDITATION_WORKFLOW,
    AccreditationRefused,
    AccreditationStatus,
    Nomination,
    ObserverAccreditation,
    ObserverKind,
    accredited_observers,
    approve_accreditation,
    is_observer_at,
    link_account,
    observer_stations,
    record_observers,
    reject_accreditation,
    request_accreditation,
    rights_window,
    stations_without_observers,
)
from referendum_core.organisation import add_polling_station
from tests.voting_support import REFERENDUM_DAY, build_scenario, riga

COMMISSION = {Party.COMMISSION}


@pytest.fixture()
def s(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, open_now=False)
    initiative = initiative_of_referendum(db_session, scenario.referendum.case_id)
    initiative.applicant_id = scenario.voters[0].id
    db_session.flush()
    return scenario


def _nominate(s, *people, station=None, actor=None, **kw):
    station = station or s.station
    nominations = [Nomination(station.id, name, f"{name.split()[0].lower()}@example.lv")
                   for name in people]
    return request_accreditation(s.session, s.clock, actor or s.voters[0], s.referendum,
                                 nominations, **kw)


def test_art18_3_accreditation_workflow_is_registered_and_approval_is_the_service_only():
    assert REGISTRY.get(CaseType.OBSERVER_ACCREDITATION) is OBSERVER_ACCREDITATION_WORKFLOW
    approve = OBSERVER_ACCREDITATION_WORKFLOW.find("requested", "accredit")
    assert approve is not None and approve.parties == frozenset({Party.SYSTEM})


def test_art18_3_initiator_names_observers_for_a_station(s, db_session):
    case = _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    rows = db_session.scalars(select(ObserverAccreditation).where(
        ObserverAccreditation.case_id == case.id)).all()
    assert case.type == "observer_accreditation" and case.state == "requested"
    assert case.parent_case_id == s.referendum.case_id
    assert case.municipality_id == s.municipality.id
    assert [r.slot for r in rows] == [1, 2]
    assert {r.status for r in rows} == {AccreditationStatus.REQUESTED}
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "observers.accreditation_requested")).one()
    assert "Anna" not in entry.detail and "@example.lv" not in entry.detail


def test_art18_3_third_observer_at_a_station_for_one_initiator_is_refused(s, db_session):
    _nominate(s, "Anna Bērziņa")
    _nominate(s, "Jānis Ozols")
    with pytest.raises(AccreditationRefused) as err:
        _nominate(s, "Pēteris Kalniņš")
    assert err.value.reason == "station_limit" and err.value.article == "Art. 18(3)"
    assert err.value.params["limit"] == 2
    assert db_session.scalars(select(ObserverAccreditation)).all().__len__() == 2
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "observers.accreditation_refused")).one()


def test_art18_3_three_in_one_request_are_refused_and_nothing_is_written(s, db_session):
    with pytest.raises(AccreditationRefused, match="station_limit"):
        _nominate(s, "Anna Bērziņa", "Jānis Ozols", "Pēteris Kalniņš")
    assert db_session.scalars(select(ObserverAccreditation)).all() == []


def test_art18_3_the_limit_is_per_station(s, db_session):
    other = add_polling_station(db_session, s.municipality, 802, "Kultūras nams", "Rīgas iela 2")
    _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    case = _nominate(s, "Pēteris Kalniņš", "Ilze Liepa", station=other)
    assert case.state == "requested"


def test_art18_3_the_database_holds_the_limit_when_requests_race(s, db_session):
    _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    taken = db_session.scalars(select(ObserverAccreditation)).first()
    # A third row that would reuse a place (as a racing request would) is refused.
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError of the driver
        with db_session.begin_nested():
            db_session.add(ObserverAccreditation(
                case_id=taken.case_id, referendum_id=taken.referendum_id,
                polling_station_id=taken.polling_station_id, kind="initiator",
                initiative_id=taken.initiative_id, slot=taken.slot, full_name="X",
                email="x@example.lv", status="requested", requested_at=s.clock.now()))
            db_session.flush()


def test_art18_3_a_request_that_lost_the_race_for_the_last_place_leaves_nothing(
        s, db_session, monkeypatch):
    """Two requests read the same free place at once: the second to write is refused by the
    unique slot, and neither its case nor its rows stay (Art. 18(3))."""
    from referendum_core.cases.models import Case
    from referendum_core.observers import accreditation

    _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    cases_before = len(db_session.scalars(select(Case)).all())
    # What a racing request read before the other committed: place 1 looked free.
    monkeypatch.setattr(accreditation, "_slots", lambda *_a: [1])
    with pytest.raises(AccreditationRefused) as err:
        _nominate(s, "Pēteris Kalniņš")
    assert err.value.reason == "station_limit" and err.value.article == "Art. 18(3)"
    assert len(db_session.scalars(select(Case)).all()) == cases_before
    assert len(db_session.scalars(select(ObserverAccreditation)).all()) == 2
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "observers.accreditation_refused")).one()


def test_art18_3_a_rejected_request_gives_its_places_back(s, db_session):
    case = _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    reject_accreditation(db_session, s.clock, s.members[0], case, "Nav pilnvarojuma.",
                         parties=COMMISSION, expected_version=case.version)
    rows = db_session.scalars(select(ObserverAccreditation)).all()
    assert {r.status for r in rows} == {AccreditationStatus.REJECTED}
    assert {r.slot for r in rows} == {None}
    assert _nominate(s, "Pēteris Kalniņš", "Ilze Liepa").state == "requested"


def test_art18_3_a_withdrawn_request_gives_its_places_back(s, db_session):
    case = _nominate(s, "Anna Bērziņa", "Jānis Ozols")
    transition_case(db_session, s.clock, s.voters[0], case, "withdraw", case.version,
                    parties={Party.REQUESTER})
    assert _nominate(s, "Pēteris Kalniņš").state == "requested"


def test_art18_3_only_the_initiator_names_observers(s):
    with pytest.raises(AccreditationRefused) as err:
        _nominate(s, "Anna Bērziņa", actor=s.voters[1])
    assert err.value.reason == "not_initiator"
    with pytest.raises(AccreditationRefused, match="not_council_initiative"):
        _nominate(s, "Anna Bērziņa", actor=s.members[0], on_behalf_of_council=True)


def test_art18_3_the_same_person_twice_at_a_station_is_refused(s):
    _nominate(s, "Anna Bērziņa")
    with pytest.raises(AccreditationRefused, match="duplicate"):
        _nominate(s, "Anna Bērziņa")


@pytest.mark.parametrize(("name", "email", "reason"), [
    ("", "a@example.lv", "name_required"), ("Anna", "not-an-address", "email_invalid"),
    ("A" * 201, "a@example.lv", "too_long")])
def test_art18_3_bad_nominations_are_refused(s, name, email, reason):
    with pytest.raises(AccreditationRefused) as err:
        request_accreditation(s.session, s.clock, s.voters[0], s.referendum,
                              [Nomination(s.station.id, name, email)])
    assert err.value.reason == reason


def test_art18_3_a_station_of_another_municipality_is_refused(s, db_session):
    from referendum_core.organisation import Municipality

    other_muni = db_session.scalars(select(Municipality).where(
        Municipality.id != s.municipality.id)).first()
    far = add_polling_station(db_session, other_muni, 901, "Tālā skola", "Tālā iela 1")
    with pytest.raises(AccreditationRefused, match="wrong_station"):
        _nominate(s, "Anna Bērziņa", station=far)


def test_art18_3_approval_sets_the_rights_to_the_referendums_days(s, db_session):
    case = _nominate(s, "Anna Bērziņa")
    rows = approve_accreditation(db_session, s.clock, s.members[0], case,
                                 expected_version=case.version)
    start, end = rights_window(s.referendum)
    assert case.state == "accredited" and rows[0].status == AccreditationStatus.APPROVED
    # Online voting opens on Monday 9 March; the count runs into the night after Saturday.
    assert start == riga(date(2026, 3, 9), 0)
    assert end == riga(REFERENDUM_DAY + timedelta(days=2), 0)
    assert (rows[0].starts_at, rows[0].ends_at) == (start, end)


def test_art18_3_art20_3_observers_are_listed_by_station_within_their_days(s, db_session):
    case = _nominate(s, "Anna Bērziņa")
    rows = approve_accreditation(db_session, s.clock, s.members[0], case)
    link_account(rows[0], s.voters[2].id)
    db_session.flush()
    start, end = rights_window(s.referendum)
    assert accredited_observers(db_session, s.referendum.id) == rows
    assert accredited_observers(db_session, s.referendum.id, s.station.id, at=start) == rows
    assert accredited_observers(db_session, s.referendum.id, at=start - timedelta(seconds=1)) == []
    assert accredited_observers(db_session, s.referendum.id, at=end) == []
    assert rows[0].is_active_at(start) and not rows[0].is_active_at(end)
    assert observer_stations(db_session, s.voters[2].id, s.referendum.id) == [s.station.id]
    assert is_observer_at(db_session, s.voters[2].id, s.referendum.id, s.station.id,
                          end - timedelta(seconds=1))
    assert not is_observer_at(db_session, s.voters[2].id, s.referendum.id, s.station.id, end)


def test_art18_3_requests_close_when_the_referendums_days_end(s):
    _start, end = rights_window(s.referendum)
    s.clock.set(end)
    with pytest.raises(AccreditationRefused, match="too_late"):
        _nominate(s, "Anna Bērziņa")


def test_art18_3_cvk_records_its_members_and_the_commission_the_media(s, db_session):
    station = s.station
    case, rows = record_observers(db_session, s.clock, s.members[0], s.referendum,
                                  ObserverKind.MEDIA,
                                  [Nomination(station.id, "Žurnālists", "z@lsm.lv", "LSM")],
                                  parties=COMMISSION)
    assert case.state == "accredited" and rows[0].slot is None and rows[0].organisation == "LSM"
    with pytest.raises(AccreditationRefused, match="kind_not_allowed"):
        record_observers(db_session, s.clock, s.members[0], s.referendum,
                         ObserverKind.CVK_MEMBER, [Nomination(station.id, "CVK", "c@cvk.lv")],
                         parties=COMMISSION)
    with pytest.raises(AccreditationRefused, match="kind_not_allowed"):
        record_observers(db_session, s.clock, s.members[0], s.referendum,
                         ObserverKind.INITIATOR, [Nomination(station.id, "I", "i@x.lv")],
                         parties=COMMISSION | {Party.CVK})
    # The law's limit of two is the initiators'; others the law admits are not counted in it.
    _nominate(s, "Anna Bērziņa", "Jānis Ozols")


def test_art18_3_the_commission_sees_stations_without_observers(s, db_session):
    other = add_polling_station(db_session, s.municipality, 802, "Kultūras nams", "Rīgas iela 2")
    case = _nominate(s, "Anna Bērziņa")
    assert [st.id for st in stations_without_observers(
        db_session, s.referendum.id, s.municipality.id)] == [s.station.id, other.id]
    approve_accreditation(db_session, s.clock, s.members[0], case)
    assert [st.id for st in stations_without_observers(
        db_session, s.referendum.id, s.municipality.id)] == [other.id]


def test_art18_3_rejection_needs_a_reason_and_the_commission(s, db_session):
    case = _nominate(s, "Anna Bērziņa")
    with pytest.raises(NotAllowed):
        reject_accreditation(db_session, s.clock, s.voters[0], case, "x",
                             parties={Party.REQUESTER}, expected_version=case.version)
