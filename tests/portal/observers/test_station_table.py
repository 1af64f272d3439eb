"""The polling-station table for the commission and CVK: observers and open incidents per
station, filters by municipality (CVK all, a commission only its own), CSV with a stable field
order, and columns other features register (Art. 18(3))."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.observers import station_table
from portal.observers.station_table import StationColumn, register_station_column
from referendum_core.audit import AuditEntry
from referendum_core.cases.services import file_observer_report
from referendum_core.observers import (
    Nomination,
    approve_accreditation,
    request_accreditation,
    rights_window,
)
from referendum_core.organisation import (
    CommissionKind,
    Municipality,
    PollingStation,
    add_polling_station,
    get_commission,
)
from tests.voting_support import build_scenario, official

HEADER = ["municipality", "referendum_id", "referendum_day", "station_number", "station_name",
          "observers", "observer_names", "open_incidents"]


@pytest.fixture()
def two(db_session, clock, keys, scenario):
    """A second referendum in another municipality, with an observer at its station."""
    other_atvk = db_session.scalars(select(Municipality.atvk_code).where(
        Municipality.id != scenario.municipality.id).order_by(Municipality.id)).first()
    other = build_scenario(db_session, clock, keys, atvk=other_atvk, open_now=False,
                           prefix="o-", station_number=902)
    case = request_accreditation(
        db_session, clock, scenario.voters[0], scenario.referendum,
        [Nomination(scenario.station.id, "Anna Bērziņa", "anna@example.lv")])
    approve_accreditation(db_session, clock, scenario.members[0], case)
    add_polling_station(db_session, scenario.municipality, 802, "Kultūras nams", "Rīgas iela 2")
    db_session.commit()
    return scenario, other


def _csv(client, query=""):
    answer = client.get(f"/observers/stations.csv{query}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def test_art18_3_cvk_sees_every_municipality_and_filters_by_one(client, login_as, people, two):
    s, other = two
    login_as(people.cvk_officer())
    page = client.get("/observers/stations")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="station-table"' in html
    assert f"station-{s.referendum.id}-{s.station.id}" in html
    assert f"station-{other.referendum.id}-{other.station.id}" in html
    assert "Anna Bērziņa" in html
    one = client.get(f"/observers/stations?municipality_id={other.municipality.id}")
    assert f"station-{s.referendum.id}-{s.station.id}" not in one.get_data(as_text=True)


def test_art18_3_a_commission_sees_only_its_own_municipality(client, login_as, two):
    s, other = two
    login_as(s.members[0])
    html = client.get("/observers/stations").get_data(as_text=True)
    assert f"station-{s.referendum.id}-{s.station.id}" in html
    assert f"station-{other.referendum.id}" not in html
    assert client.get(f"/observers/stations?municipality_id={other.municipality.id}"
                      ).status_code == 404
    assert client.get(f"/observers/stations.csv?municipality_id={other.municipality.id}"
                      ).status_code == 404
    rows = _csv(client)
    assert {r[1] for r in rows[1:]} == {str(s.referendum.id)}


def test_art18_3_observers_and_voters_may_not_read_the_table(client, login_as, people, two):
    login_as(people.observer())
    assert client.get("/observers/stations").status_code == 403
    assert client.get("/observers/stations.csv").status_code == 403
    login_as(two[0].voters[1])
    assert client.get("/observers/stations").status_code == 403


def test_art18_3_csv_has_a_stable_field_order_and_is_audited(client, login_as, two, db_session):
    s, _other = two
    login_as(s.chair)
    rows = _csv(client)
    # The base fields, then the observation columns (``portal.observation.columns``).
    assert rows[0] == [*HEADER, "open_incidents_no_referendum", "checklist_answered",
                       "checklist_questions", "observer_conflicts"]
    assert rows[1][3:8] == ["801", "Skola", "1", "Anna Bērziņa", "0"]
    assert rows[2][3:8] == ["802", "Kultūras nams", "0", "", "0"]
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "observers.stations_exported")).first() is not None


def test_art18_3_filter_stations_without_an_observer(client, login_as, two):
    s, _other = two
    login_as(s.chair)
    rows = _csv(client, "?without_observers=1")
    assert [r[3] for r in rows[1:]] == ["802"]
    html = client.get("/observers/stations?without_observers=1").get_data(as_text=True)
    assert "Kultūras nams" in html and "Anna Bērziņa" not in html


def test_registered_columns_follow_the_base_ones_in_registration_order(
        client, login_as, two, monkeypatch):
    s, _other = two
    monkeypatch.setattr(station_table, "EXTRA_COLUMNS", [])
    register_station_column(StationColumn(
        "checklist_progress", "Checklist", lambda _session, rows: {
            row.key: f"{row.station_number}/3" for row in rows}))
    register_station_column(StationColumn("conflicts", "Conflicts", lambda _s, _r: {}))
    with pytest.raises(ValueError):
        register_station_column(StationColumn("observers", "x", lambda _s, _r: {}))
    login_as(s.chair)
    rows = _csv(client)
    assert rows[0] == [*HEADER, "checklist_progress", "conflicts"]
    assert rows[1][-2:] == ["801/3", ""]


def test_cells_that_look_like_formulas_are_neutralised(db_session, clock, two, client,
                                                       login_as):
    s, _other = two
    add_polling_station(db_session, s.municipality, 803, "=HYPERLINK(1)", "Iela 3")
    db_session.commit()
    login_as(s.chair)
    assert any(r[4] == "'=HYPERLINK(1)" for r in _csv(client)[1:])


def test_an_internet_commission_member_may_not_read_the_table(client, login_as, db_session,
                                                              clock, two):
    member = official(db_session, clock, "net", Role.INTERNET_COMMISSION_MEMBER,
                      get_commission(db_session, CommissionKind.INTERNET))
    login_as(member)
    assert client.get("/observers/stations").status_code == 403


def _row_html(html, s, station):
    return re.search(rf'<tr data-testid="station-{s.referendum.id}-{station.id}">.*?</tr>',
                     html, re.S).group(0)


def test_art18_3_a_standing_observer_who_reported_is_present_and_marked(
        client, login_as, two, db_session, clock, people):
    """An observer appointed by the commission (no accreditation) who sent a report for a
    station observes it: named in the observers column, marked, and the station is not one
    "without an observer"."""
    s, _other = two
    standing = people.observer()
    standing.display_name = "Pastāvīgā Novērotāja"
    kultura = db_session.scalars(select(PollingStation).where(
        PollingStation.number == 802)).one()
    file_observer_report(db_session, clock, standing, polling_station_id=kultura.id,
                         category="other", severity="low", description="Rinda pie durvīm.",
                         is_accredited=lambda _m: True, referendum_id=s.referendum.id)
    db_session.commit()
    login_as(s.chair)
    html = client.get("/observers/stations").get_data(as_text=True)
    row = _row_html(html, s, kultura)
    assert "Pastāvīgā Novērotāja (sūtījis datus; novēro visus pašvaldības iecirkņus)" in row
    rows = _csv(client)
    [line] = [r for r in rows[1:] if r[3] == "802"]
    assert line[5] == "0" and "Pastāvīgā Novērotāja" in line[6]
    assert [r[3] for r in _csv(client, "?without_observers=1")[1:]] == []


def test_art20_3_without_an_observer_lists_only_referendums_still_observable(
        client, login_as, two, clock):
    s, _other = two
    login_as(s.chair)
    assert [r[3] for r in _csv(client, "?without_observers=1")[1:]] == ["802"]
    clock.set(rights_window(s.referendum)[1] + timedelta(hours=1))
    login_as(s.chair)
    assert _csv(client, "?without_observers=1")[1:] == []
    html = client.get("/observers/stations?without_observers=1").get_data(as_text=True)
    assert "Kultūras nams" not in html


def test_rows_name_the_referendum_by_its_question_and_latvian_date_and_link_the_station(
        client, login_as, two):
    s, _other = two
    login_as(s.chair)
    html = client.get("/observers/stations").get_data(as_text=True)
    row = _row_html(html, s, s.station)
    assert "Vai jūs atbalstāt stratēģijas grozījumus?" in row
    assert "2026-03-14" not in row and "14.03.2026" in row
    assert (f'href="/observe/r/{s.referendum.id}/s/{s.station.id}" '
            f'data-testid="station-link-{s.referendum.id}-{s.station.id}">Skola</a>') in row
    # The table scrolls inside its own frame rather than being cut off.
    assert '<div class="scroll-frame"><table class="station-table"' in html
    # The CSV keeps its stable machine-readable fields.
    assert _csv(client)[1][1] == str(s.referendum.id) and _csv(client)[1][2] == "2026-03-14"
