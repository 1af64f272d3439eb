"""An observer accredited to one polling station of a referendum (Art. 18(3), 20(3)) fills in
that station's checklist only, and only during the referendum's days."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.observers import services
from referendum_core.initiatives import initiative_of_referendum
from referendum_core.observers import Nomination, request_accreditation, rights_window
from referendum_core.organisation import add_polling_station
from tests.portal.observation.conftest import checklist_body


def test_art18_3_an_accredited_observer_observes_their_own_station_in_its_days(
        scene, db_session, clock, keys, login_as):
    other = add_polling_station(db_session, scene.municipality, 802, "Cita skola", "Iela 2")
    initiative_of_referendum(db_session, scene.referendum.case_id).applicant_id = \
        scene.voters[0].id
    case = request_accreditation(db_session, clock, scene.voters[0], scene.referendum,
                                 [Nomination(scene.station.id, "Anna Bērziņa",
                                             "anna@example.lv")])
    services.accredit(db_session, clock, keys, scene.members[0], case,
                      lifetime=timedelta(hours=72))
    observer = db_session.scalars(select(User).where(User.email == "anna@example.lv")).one()
    start, end = rights_window(scene.referendum)
    clock.set(start)
    client = login_as(observer)
    page = client.get("/observe/").get_data(as_text=True)
    assert f'value="{scene.station.id}"' in page and f'value="{other.id}"' not in page
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    elsewhere = checklist_body(scene, ("seals_intact", True))
    elsewhere["polling_station_id"] = other.id
    assert client.post("/observe/api/checklist", json=elsewhere).status_code == 403
    clock.set(end)
    login_as(observer)  # a fresh sign-in: the rights have ended, not the session
    assert client.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 403
