"""Observer accreditation through HTTP (Art. 18(3), 20(3)): the initiator names observers, the
commission accredits them (a single-use invitation, no password handed out) or refuses; the
third observer at a station is refused with a clear message; least privilege."""
from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Invitation, Role, User
from referendum_core.audit import AuditEntry
from referendum_core.cases.models import Case
from referendum_core.observers import AccreditationStatus, ObserverAccreditation
from referendum_core.organisation import CommissionKind, get_commission
from tests.portal.observers.conftest import accept, invitation_links, nomination
from tests.voting_support import official


def _nominate(client, s, **kw):
    return client.post(f"/observers/referendums/{s.referendum.id}/nominate",
                       data=nomination(s, **kw))


def _accredit(client, s, case_id, action="accredit", note=""):
    return client.post(f"/observers/referendums/{s.referendum.id}/accreditations/{case_id}/"
                       f"{action}", data={"note": note}, follow_redirects=True)


def test_art18_3_initiator_names_an_observer_and_commission_accredits_with_an_invitation(
        app, client, login_as, scenario, db_session, clock):
    s = scenario
    login_as(s.voters[0])
    page = client.get(f"/observers/referendums/{s.referendum.id}/nominate")
    assert page.status_code == 200 and "18. panta trešā daļa" in page.get_data(as_text=True)
    assert _nominate(client, s).status_code == 302
    row = db_session.scalars(select(ObserverAccreditation)).one()
    assert row.status == AccreditationStatus.REQUESTED and row.user_id is None
    assert "Anna Bērziņa" in client.get(
        f"/observers/referendums/{s.referendum.id}/nominate").get_data(as_text=True)

    login_as(s.members[0])
    listing = client.get(f"/observers/referendums/{s.referendum.id}/accreditations")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "Anna Bērziņa" in html
    assert 'data-testid="stations-without-observers"' in html and "801. Skola" in html
    done = _accredit(client, s, row.case_id)
    html = done.get_data(as_text=True)
    links = invitation_links(html)
    assert done.status_code == 200 and len(links) == 1
    assert "Katrā iecirknī ir vismaz viens akreditēts novērotājs." in html
    db_session.expire_all()
    row = db_session.get(ObserverAccreditation, row.id)
    observer = db_session.get(User, row.user_id)
    assert row.status == AccreditationStatus.APPROVED and observer.email == "anna@example.lv"
    assert observer.password_hash is None  # nobody was given a password
    membership = next(m for m in observer.memberships if m.role == Role.OBSERVER)
    assert (membership.municipality_id, membership.starts_at, membership.ends_at) == (
        s.municipality.id, row.starts_at, row.ends_at)
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"observers.accreditation_requested", "observers.accreditation_approved",
            "invitation.created", "membership.granted"} <= actions

    invitee = app.test_client()
    assert accept(invitee, clock, links[0]).status_code == 302
    assert app.test_client().get(links[0]).status_code == 404  # the link worked once
    assert db_session.scalars(select(Invitation).where(
        Invitation.user_id == observer.id)).one().used_at is not None


def test_art18_3_third_observer_at_a_station_is_refused_with_a_clear_message(
        client, login_as, scenario, db_session):
    s = scenario
    login_as(s.voters[0])
    assert _nominate(client, s).status_code == 302
    assert _nominate(client, s, name="Jānis Ozols", email="janis@example.lv").status_code == 302
    third = _nominate(client, s, name="Pēteris Kalniņš", email="peteris@example.lv")
    html = third.get_data(as_text=True)
    assert third.status_code == 422
    assert "ne vairāk kā divus novērotājus" in html and "18. panta trešā daļa" in html
    assert len(db_session.scalars(select(ObserverAccreditation)).all()) == 2
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "observers.accreditation_refused")).one()


def test_art18_3_third_observer_refusal_in_english(client, login_as, scenario, db_session):
    s = scenario
    s.voters[0].locale = "en"
    login_as(s.voters[0])
    _nominate(client, s)
    _nominate(client, s, name="Jānis Ozols", email="janis@example.lv")
    third = _nominate(client, s, name="Pēteris Kalniņš", email="peteris@example.lv",)
    html = third.get_data(as_text=True)
    assert third.status_code == 422, html[:300]
    assert "at most two observers per polling station for each initiator (Art. 18(3))" in html


def test_art18_3_someone_not_the_initiator_cannot_name_observers(client, login_as, scenario,
                                                                 db_session):
    s = scenario
    login_as(s.voters[1])
    answer = _nominate(client, s)
    assert answer.status_code == 422
    assert "Tikai šī referenduma iniciatori" in answer.get_data(as_text=True)
    assert db_session.scalars(select(ObserverAccreditation)).all() == []


def test_art18_3_bad_input_is_refused_without_a_write(client, login_as, scenario, db_session):
    s = scenario
    login_as(s.voters[0])
    assert _nominate(client, s, email="").status_code == 422
    answer = _nominate(client, s, email="not-an-address")
    assert answer.status_code == 422 and "e-pasta adresi" in answer.get_data(as_text=True)
    assert client.post(f"/observers/referendums/{s.referendum.id}/nominate",
                       data={"station_id": "x", "full_name": "A", "email": "a@b.lv"}
                       ).status_code == 422
    assert db_session.scalars(select(ObserverAccreditation)).all() == []


def test_art18_3_commission_refuses_with_a_reason_and_the_places_are_free_again(
        client, login_as, scenario, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    _nominate(client, s, name="Jānis Ozols", email="janis@example.lv")
    first = db_session.scalars(select(ObserverAccreditation)).first()
    login_as(s.members[0])
    no_reason = _accredit(client, s, first.case_id, action="refuse")
    assert no_reason.status_code == 200
    assert _accredit(client, s, first.case_id, "refuse", "Nav pilnvarojuma.").status_code == 200
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, first.id).status == AccreditationStatus.REJECTED
    login_as(s.voters[0])
    assert _nominate(client, s, name="Ilze Liepa", email="ilze@example.lv").status_code == 302


def test_art18_3_commission_records_a_journalist_and_may_not_record_cvk_members(
        client, login_as, scenario, db_session):
    s = scenario
    login_as(s.members[0])
    url = f"/observers/referendums/{s.referendum.id}/accreditations"
    media = client.post(url, data={**nomination(s, "Žurnāliste", "z@lsm.lv"), "kind": "media",
                                   "organisation": "LSM"}, follow_redirects=True)
    assert media.status_code == 200 and invitation_links(media.get_data(as_text=True))
    cvk = client.post(url, data={**nomination(s, "CVK loceklis", "c@cvk.lv"),
                                 "kind": "cvk_member"})
    assert cvk.status_code == 422 and "CVK reģistrē savus locekļus" in cvk.get_data(as_text=True)
    rows = db_session.scalars(select(ObserverAccreditation)).all()
    assert [(r.kind, r.status, r.slot) for r in rows] == [("media", "approved", None)]


def test_art18_3_cvk_records_its_member_in_any_municipality(client, login_as, scenario, people,
                                                             db_session):
    s = scenario
    login_as(people.cvk_officer())
    answer = client.post(f"/observers/referendums/{s.referendum.id}/accreditations",
                         data={**nomination(s, "CVK loceklis", "c@cvk.lv"),
                               "kind": "cvk_member"})
    assert answer.status_code == 302
    assert db_session.scalars(select(ObserverAccreditation)).one().kind == "cvk_member"


def test_art18_3_another_municipalitys_commission_cannot_see_or_decide(
        client, login_as, scenario, db_session, clock):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    row = db_session.scalars(select(ObserverAccreditation)).one()
    stranger = official(db_session, clock, "stranger", Role.COMMISSION_MEMBER,
                        get_commission(db_session, CommissionKind.MUNICIPAL,
                                       _other_municipality(db_session, s).id))
    login_as(stranger)
    base = f"/observers/referendums/{s.referendum.id}/accreditations"
    assert client.get(base).status_code == 403
    assert client.post(f"{base}/{row.case_id}/accredit").status_code == 403
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == AccreditationStatus.REQUESTED
    # An observer or a voter may not accredit either.
    login_as(s.voters[1])
    assert client.get(base).status_code == 403


def test_art18_3_a_missing_referendum_or_foreign_case_is_404(client, login_as, scenario):
    s = scenario
    login_as(s.members[0])
    assert client.get("/observers/referendums/99999/accreditations").status_code == 404
    assert client.post(f"/observers/referendums/{s.referendum.id}/accreditations/"
                       f"{s.referendum.case_id}/accredit").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, scenario):
    answer = client.get(f"/observers/referendums/{scenario.referendum.id}/accreditations")
    assert answer.status_code in (302, 401)


def _other_municipality(session, s):
    from referendum_core.organisation import Municipality

    return session.scalars(select(Municipality).where(
        Municipality.id != s.municipality.id).order_by(Municipality.id)).first()


def test_art18_3_the_initiator_finds_the_page_from_the_initiative(client, login_as, scenario,
                                                                  db_session):
    from referendum_core.initiatives import initiative_of_referendum

    s = scenario
    initiative = initiative_of_referendum(db_session, s.referendum.case_id)
    login_as(s.voters[0])
    html = client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)
    assert f"/observers/referendums/{s.referendum.id}/nominate" in html
    login_as(s.voters[1])
    html = client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)
    assert 'data-testid="name-observers"' not in html


def test_art18_3_the_commission_enters_a_councils_observers(client, login_as, scenario,
                                                            db_session):
    from referendum_core.initiatives import initiative_of_referendum

    s = scenario
    initiative_of_referendum(db_session, s.referendum.case_id).initiator = "council"
    db_session.commit()
    login_as(s.members[0])
    page = client.get(f"/observers/referendums/{s.referendum.id}/accreditations")
    assert 'data-testid="name-for-council"' in page.get_data(as_text=True)
    assert _nominate(client, s).status_code == 302
    row = db_session.scalars(select(ObserverAccreditation)).one()
    assert row.kind == "initiator" and row.slot == 1
    # The residents' applicant is not the initiator of a council's referendum.
    login_as(s.voters[0])
    assert _nominate(client, s, name="Jānis Ozols", email="janis@example.lv").status_code == 422


def test_art18_3_the_request_is_a_case_the_requester_may_withdraw_from_its_page(
        client, login_as, scenario, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    row = db_session.scalars(select(ObserverAccreditation)).one()
    page = client.get(f"/cases/{row.case_id}")
    assert page.status_code == 200 and "Novērotāju akreditācija" in page.get_data(as_text=True)
    case_version = db_session.get(Case, row.case_id).version
    answer = client.post(f"/cases/{row.case_id}/transition",
                         data={"transition": "withdraw", "version": case_version})
    assert answer.status_code in (200, 302)
    db_session.expire_all()
    row = db_session.get(ObserverAccreditation, row.id)
    assert row.status == AccreditationStatus.WITHDRAWN and row.slot is None
    login_as(s.members[0])
    assert client.get(f"/cases/{row.case_id}").status_code == 200


def test_art18_3_only_the_municipalitys_commission_decides_on_requests(
        client, login_as, scenario, people, db_session):
    s = scenario
    login_as(s.voters[0])
    _nominate(client, s)
    row = db_session.scalars(select(ObserverAccreditation)).one()
    login_as(people.cvk_officer())
    page = client.get(f"/observers/referendums/{s.referendum.id}/accreditations")
    assert page.status_code == 200 and f"/{row.case_id}/accredit" not in page.get_data(as_text=True)
    assert client.post(f"/observers/referendums/{s.referendum.id}/accreditations/"
                       f"{row.case_id}/accredit").status_code == 403
    db_session.expire_all()
    assert db_session.get(ObserverAccreditation, row.id).status == AccreditationStatus.REQUESTED
