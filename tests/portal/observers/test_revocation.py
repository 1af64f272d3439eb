"""Revoking an approved observer's accreditation (Art. 18(3), 20(3)): only the commission of
the referendum's municipality or CVK may, after a page naming the consequence; the observer's
time-limited role ends at once, an unused invitation stops working, the station shows as
uncovered again, the observer is told, and the revocation is audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Invitation, Role, User
from portal.observers import services, tasks
from portal.permissions import Permission, Scope, has_permission
from referendum_core.audit import AuditEntry
from referendum_core.observers import (
    AccreditationStatus,
    Nomination,
    ObserverAccreditation,
    request_accreditation,
    rights_window,
    stations_without_observers,
)
from referendum_core.organisation import CommissionKind, Municipality, get_commission
from tests.portal.observers.conftest import accept
from tests.voting_support import official

LINK = "/invitation/"


@pytest.fixture()
def accredited(app, scenario, db_session, clock, keys):
    """Anna, accredited at the scenario's station; her invitation's token."""
    s = scenario
    case = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                 [Nomination(s.station.id, "Anna Bērziņa", "anna@example.lv")])
    invitations = services.accredit(db_session, clock, keys, s.members[0], case,
                                    lifetime=timedelta(hours=72))
    db_session.commit()
    row = db_session.scalars(select(ObserverAccreditation)).one()
    return row, invitations[0].token


@pytest.fixture()
def told(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(tasks.send_revocation_notice, "delay", sent.append)
    return sent


def _page(s, row):
    return f"/observers/referendums/{s.referendum.id}/observers/{row.id}/revoke"


def _can_observe(app, user, s):
    with app.app_context():
        return has_permission(user, Permission.FILL_CHECKLIST,
                              Scope(municipality_id=s.municipality.id,
                                    case_id=s.referendum.case_id))


def test_art18_3_the_commission_revokes_after_a_page_naming_the_consequence(
        app, client, login_as, scenario, accredited, db_session, clock, told):
    s = scenario
    row, token = accredited
    clock.set(rights_window(s.referendum)[0] + timedelta(hours=1))
    observer = db_session.get(User, row.user_id)
    assert _can_observe(app, observer, s)
    assert stations_without_observers(db_session, s.referendum.id, s.municipality.id) == []
    login_as(s.members[0])
    listing = client.get(f"/observers/referendums/{s.referendum.id}/accreditations")
    assert f'data-testid="revoke-{row.id}"' in listing.get_data(as_text=True)
    page = client.get(_page(s, row))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="revoke-consequence"' in html
    assert "Anna Bērziņa" in html and "801" in html
    # Nothing changes until confirmed.
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == AccreditationStatus.APPROVED

    done = client.post(_page(s, row), follow_redirects=True)
    assert done.status_code == 200
    # The name stays in the nominative (a Latvian genitive of any name cannot be built).
    assert ("Akreditācija atsaukta: Anna Bērziņa (801. vēlēšanu iecirknis); novērotājam tas ir "
            "paziņots.") in done.get_data(as_text=True)
    db_session.expire_all()
    row = db_session.get(ObserverAccreditation, row.id)
    assert row.status == AccreditationStatus.REVOKED and row.revoked_at == clock.now()
    observer = db_session.get(User, row.user_id)
    # The time-limited role ends at once; the unused invitation no longer works.
    assert not any(m.role == Role.OBSERVER for m in observer.memberships)
    assert not _can_observe(app, observer, s)
    assert accounts.pending_invitation(db_session, clock, app.extensions["keys"], token) is None
    assert accept(client, clock, LINK + token).status_code == 404
    # The station is uncovered again, on the commission's list and the station table.
    assert [st.id for st in stations_without_observers(
        db_session, s.referendum.id, s.municipality.id)] == [s.station.id]
    login_as(s.members[0])
    table = client.get("/observers/stations?without_observers=1").get_data(as_text=True)
    assert "Skola" in table
    # The observer is told, and the step is audited.
    assert told == [row.id]
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"observers.accreditation_revoked", "membership.revoked",
            "invitation.withdrawn"} <= actions


def test_the_observer_is_told_by_e_mail(app, scenario, accredited, db_session, clock, keys,
                                        monkeypatch):
    s = scenario
    row, _token = accredited
    services.revoke(db_session, clock, s.members[0], row)
    db_session.commit()
    sent = []
    monkeypatch.setattr(tasks, "send_from_task", lambda _t, mail, _w: sent.append(mail) or "sent")
    with app.app_context():
        assert tasks.send_revocation_notice.run(row.id) == "sent"
    mail = sent[0]
    assert mail["To"] == "anna@example.lv"
    assert "atsaukta" in mail["Subject"] and "801" in mail.get_content()


def test_an_observer_who_accepted_the_invitation_loses_the_station_at_once(
        app, client, login_as, scenario, accredited, db_session, clock, told):
    from referendum_core.observation.models import ChecklistAnswer
    from tests.conftest import login
    from tests.portal.observation.conftest import checklist_body

    s = scenario
    row, token = accredited
    assert accept(client, clock, LINK + token).status_code == 302  # activated
    clock.set(rights_window(s.referendum)[0] + timedelta(hours=1))
    observer = db_session.get(User, row.user_id)
    scene = type("Scene", (), {"referendum": s.referendum, "station": s.station})
    db_session.commit()
    phone = app.test_client()
    login(phone, observer, clock)
    assert phone.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", True))).status_code == 201
    login_as(s.members[0])
    assert client.post(_page(s, row)).status_code == 302
    # The observer's open session is refused at once; nothing more is received.
    refused = phone.post("/observe/api/checklist", json=checklist_body(
        scene, ("seals_intact", False)))
    assert refused.status_code in (302, 401, 403)
    assert len(db_session.scalars(select(ChecklistAnswer)).all()) == 1
    # Signing in again gives no observer rights either.
    db_session.expire_all()
    assert not _can_observe(app, db_session.get(User, row.user_id), s)


def test_another_municipalitys_commission_may_not_revoke(app, client, login_as, scenario,
                                                         accredited, db_session, clock, told):
    s = scenario
    row, _token = accredited
    other = db_session.scalars(select(Municipality).where(
        Municipality.id != s.municipality.id).order_by(Municipality.id)).first()
    stranger = official(db_session, clock, "stranger", Role.COMMISSION_CHAIR,
                        get_commission(db_session, CommissionKind.MUNICIPAL, other.id))
    db_session.commit()
    login_as(stranger)
    assert client.get(_page(s, row)).status_code == 403
    assert client.post(_page(s, row)).status_code == 403
    # Neither may the observer, nor the initiator who named them.
    for person in (db_session.get(User, row.user_id), s.voters[0]):
        login_as(person)
        assert client.post(_page(s, row)).status_code == 403
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == AccreditationStatus.APPROVED
    assert told == []


def test_cvk_may_revoke(client, login_as, scenario, accredited, db_session, people, told):
    s = scenario
    row, _token = accredited
    login_as(people.cvk_officer())
    assert client.post(_page(s, row)).status_code == 302
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == AccreditationStatus.REVOKED


def test_revoking_twice_or_a_request_is_refused_and_changes_nothing(
        client, login_as, scenario, accredited, db_session, clock, told):
    s = scenario
    row, _token = accredited
    login_as(s.members[0])
    assert client.post(_page(s, row)).status_code == 302
    again = client.post(_page(s, row), follow_redirects=True)
    assert "Nothing was changed" in again.get_data(as_text=True) or \
        "Nekas netika mainīts" in again.get_data(as_text=True)
    assert told == [row.id]
    # Another referendum's id in the address is a 404.
    assert client.get(f"/observers/referendums/{s.referendum.id + 999}/observers/{row.id}/"
                      "revoke").status_code == 404


def test_another_accreditation_in_the_municipality_keeps_the_role(
        app, scenario, accredited, db_session, clock, keys):
    from referendum_core.organisation import add_polling_station

    s = scenario
    row, _token = accredited
    other = add_polling_station(db_session, s.municipality, 802, "Kultūras nams", "Rīgas iela 2")
    case = request_accreditation(db_session, clock, s.voters[0], s.referendum,
                                 [Nomination(other.id, "Anna Bērziņa", "anna@example.lv")])
    services.accredit(db_session, clock, keys, s.members[0], case, lifetime=timedelta(hours=72))
    services.revoke(db_session, clock, s.members[0], row)
    db_session.commit()
    observer = db_session.get(User, row.user_id)
    assert any(m.role == Role.OBSERVER for m in observer.memberships)
    assert db_session.scalars(select(Invitation).where(
        Invitation.user_id == observer.id, Invitation.used_at.is_(None))).first() is not None
