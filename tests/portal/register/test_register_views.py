"""Register pages: import with the report by line, refusals, and the polling-station lookup
(POST only: personal codes never in URLs)."""
from __future__ import annotations

import io
from datetime import date

from referendum_core.etvr import mark_voted
from referendum_core.organisation import add_polling_station
from tests.conftest import municipality
from tests.register_data import add_person, code_for, csv_bytes, person_row, referendum_case

BORN = date(1980, 1, 1)


def _upload(client, data: bytes, mode="continue", muni_id=None, db_session=None):
    return client.post("/register/import", data={
        "source": "population", "municipality_id": muni_id, "file_format": "csv",
        "mode": mode, "upload": (io.BytesIO(data), "extract.csv")},
        content_type="multipart/form-data")


def test_chair_imports_and_sees_problems_by_line(login_as, people, db_session):
    chair = people.chair()
    muni = municipality(db_session)
    client = login_as(chair)
    data = csv_bytes([person_row(BORN, 1), ("bad", "X", "1980-01-01", "LV", "0023000")])
    response = _upload(client, data, muni_id=muni.id)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="import-report"' in page
    assert "<td>3</td>" in page and "personas kods nav derīgs" in page


def test_wrong_header_is_refused_with_a_clear_message(login_as, people, db_session):
    client = login_as(people.chair())
    muni = municipality(db_session)
    response = _upload(client, b"code,name\n1,2\n", muni_id=muni.id)
    assert response.status_code == 422
    assert "Faila galvene ir nepareiza" in response.get_data(as_text=True)


def test_voter_may_not_import(login_as, people, db_session):
    client = login_as(people.voter())
    assert client.get("/register/import").status_code == 403


def test_member_cannot_import_for_another_municipality(login_as, people, db_session):
    client = login_as(people.chair())
    riga = municipality(db_session, "0001000")
    response = _upload(client, csv_bytes([person_row(BORN, 1, atvk="0001000")]),
                       muni_id=riga.id)
    assert response.status_code in (400, 403, 200)
    assert "import-report" not in response.get_data(as_text=True)


def test_lookup_by_post_shows_where_already_voted(login_as, people, db_session, clock, keys):
    muni = municipality(db_session)
    station = add_polling_station(db_session, muni, 911, "Skola", "Iela 1")
    case_id = referendum_case(db_session, clock, muni)
    code = code_for(BORN, 5)
    add_person(db_session, keys.personal_codes, code, born=BORN, municipality=muni)
    mark_voted(db_session, clock, None, case_id, keys.personal_codes.lookup_hash(code),
               polling_station=station)
    client = login_as(people.member())
    assert client.get("/register/lookup").status_code == 200
    response = client.post("/register/lookup", data={"case_id": case_id,
                                                     "personal_code": code})
    page = response.get_data(as_text=True)
    assert "Persona ir šī referenduma vēlētājs." in page
    # The station as every page names it, never its database id.
    assert "Jau balsojis" in page and "911. Skola" in page and f"#{station.id}" not in page
    assert code not in page and code.replace("-", "") not in page


def test_lookup_with_invalid_code(login_as, people, db_session, clock):
    muni = municipality(db_session)
    case_id = referendum_case(db_session, clock, muni)
    client = login_as(people.member())
    response = client.post("/register/lookup", data={"case_id": case_id,
                                                     "personal_code": "123456-12345"})
    assert response.status_code == 422
    assert "Personas kods nav derīgs." in response.get_data(as_text=True)


def test_import_history_shows_a_chair_only_their_municipality(app, people, db_session, clock):
    """A commission chair sees the register imports of their own municipality; CVK sees all
    (file names and counts of another municipality's extracts are not theirs to see)."""
    from tests.conftest import login

    riga = municipality(db_session, "0001000")
    adazi = municipality(db_session)
    chairs = {"adazi": people.chair(), "riga": people.chair("0001000")}
    admin = people.cvk_admin()
    db_session.commit()

    def client_of(user):
        client = app.test_client()
        login(client, user, clock)
        return client

    for name, muni, atvk in (("adazi", adazi, "0023000"), ("riga", riga, "0001000")):
        answer = client_of(chairs[name]).post("/register/import", data={
            "source": "population", "municipality_id": muni.id, "file_format": "csv",
            "mode": "continue",
            "upload": (io.BytesIO(csv_bytes([person_row(BORN, 1, atvk=atvk)])),
                       f"izraksts-{name}.csv")}, content_type="multipart/form-data")
        assert answer.status_code == 200
    adazi_page = client_of(chairs["adazi"]).get("/register/import").get_data(as_text=True)
    assert "izraksts-adazi.csv" in adazi_page and "izraksts-riga.csv" not in adazi_page
    riga_page = client_of(chairs["riga"]).get("/register/import").get_data(as_text=True)
    assert "izraksts-riga.csv" in riga_page and "izraksts-adazi.csv" not in riga_page
    cvk_page = client_of(admin).get("/register/import").get_data(as_text=True)
    assert "izraksts-adazi.csv" in cvk_page and "izraksts-riga.csv" in cvk_page
