"""The polling-station table's rows: observers and open incidents per station of a referendum
under way, limited to the municipalities asked for (Art. 18(3))."""
from __future__ import annotations

import pytest

from referendum_core.cases.services import file_observer_report
from referendum_core.initiatives import initiative_of_referendum
from referendum_core.observers import Nomination, approve_accreditation, request_accreditation
from referendum_core.observers.stations import station_rows
from referendum_core.organisation import add_polling_station
from tests.voting_support import build_scenario


@pytest.fixture()
def s(db_session, clock, keys):
    scenario = build_scenario(db_session, clock, keys, open_now=False)
    initiative_of_referendum(db_session, scenario.referendum.case_id).applicant_id = \
        scenario.voters[0].id
    db_session.flush()
    return scenario


def test_art18_3_rows_show_observers_and_open_incidents_per_station(s, db_session):
    other = add_polling_station(db_session, s.municipality, 802, "Kultūras nams", "Rīgas iela 2")
    case = request_accreditation(db_session, s.clock, s.voters[0], s.referendum,
                                 [Nomination(s.station.id, "Anna Bērziņa", "anna@example.lv")])
    approve_accreditation(db_session, s.clock, s.members[0], case)
    file_observer_report(db_session, s.clock, s.voters[0], polling_station_id=other.id,
                         category="other", severity="low", description="Rinda pie durvīm.",
                         is_accredited=lambda _m: True)
    add_polling_station(db_session, s.municipality, 803, "Bibliotēka", "Skolas iela 3")
    rows = station_rows(db_session, municipality_ids={s.municipality.id})
    assert [(r.station_number, r.observers, r.open_incidents) for r in rows] == [
        (801, ("Anna Bērziņa",), 0), (802, (), 1), (803, (), 0)]
    assert rows[0].key == (s.referendum.id, s.station.id)
    # Whoever reported at a station without an accreditation there is present too.
    assert [r.reporting_observer_ids for r in rows] == [(), (s.voters[0].id,), ()]
    without = station_rows(db_session, municipality_ids=None, without_observers=True)
    assert [r.station_number for r in without] == [803]


def test_art18_3_rows_of_another_municipality_are_not_given(s, db_session):
    assert station_rows(db_session, municipality_ids={s.municipality.id + 1000}) == []
    assert station_rows(db_session, municipality_ids=set()) == []


def test_art20_3_stations_without_observers_only_of_referendums_still_observable(s, db_session):
    """Art. 20(3): observers observe for the referendum's days; once they have ended the
    station is no longer one "without an observer" to find one for."""
    from datetime import timedelta

    from referendum_core.observers import rights_window

    _start, end = rights_window(s.referendum)
    before = station_rows(db_session, municipality_ids=None, without_observers=True,
                          at=end - timedelta(minutes=1))
    assert [r.station_id for r in before] == [s.station.id]
    assert station_rows(db_session, municipality_ids=None, without_observers=True, at=end) == []
    # The full table still lists the referendum until its results are approved.
    assert [r.station_id for r in station_rows(db_session, municipality_ids=None)] == [
        s.station.id]
