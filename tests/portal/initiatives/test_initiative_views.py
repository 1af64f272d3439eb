"""Initiative pages end to end through HTTP: a resident submits (Art. 7(3)), the chair
decides (Art. 10), voters sign once (Art. 11), officials register in-person signatures
(Art. 4(1)), the collection closes (Art. 10(8)) and the check opens the referendum (Art. 13)."""
from __future__ import annotations

from datetime import UTC, date, datetime

from referendum_core.initiatives import Initiative
from tests.conftest import municipality
from tests.register_data import add_person, code_for

OPEN = datetime(2026, 3, 5, 8, tzinfo=UTC)


def _voter(db_session, keys, people, muni, serial):
    code = code_for(date(1970, 1, 1), serial)
    add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=muni)
    return people.voter(code, f"Vēlētājs {serial}")


def test_initiative_from_submission_to_referendum(app, login_as, people, db_session,
                                                  keys, clock):
    muni = municipality(db_session)
    muni.voters_at_last_election = 10  # 15 % -> 2 signatures
    resident = _voter(db_session, keys, people, muni, 1)
    second = _voter(db_session, keys, people, muni, 2)
    chair, member = people.chair(), people.member()

    web = login_as(resident)
    response = web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    assert response.status_code == 302
    initiative = db_session.query(Initiative).one()
    page = f"/initiatives/{initiative.id}"

    web = login_as(chair)
    assert web.post(f"{page}/decide", data={"decision": "can", "question": "Vai atbalstāt?",
                                            "version": initiative.case.version}
                    ).status_code == 302
    clock.set(OPEN)
    from portal.initiatives.tasks import run_initiative_deadlines

    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(resident)  # the clock moved: a fresh session
    body = web.get(page).get_data(as_text=True)
    assert "<progress" in body and 'max="2"' in body and "Atlikušas dienas" in body
    # Art. 10(8): the 30th day counts whole (it closes at 24.00): the end is said as that day
    # "ieskaitot", never as a "23:59" that contradicts the "plkst. 24.00" above it.
    assert "līdz 03.04.2026 ieskaitot" in body and "23:59" not in body
    assert web.post(f"{page}/sign").status_code == 302
    assert 'data-testid="own-signature"' in web.get(page).get_data(as_text=True)
    web.post(f"{page}/sign")
    follow = web.get(page).get_data(as_text=True)
    assert "jau ir parakstījusi" in follow

    web = login_as(member)
    response = web.post(f"{page}/signatures", data={
        "personal_code": code_for(date(1970, 1, 1), 2), "certifier_type": "notary",
        "certifier_name": "Notāre Liepa", "signed_on": "2026-03-05"})
    assert response.status_code == 302
    assert "1 no 2" not in web.get(page).get_data(as_text=True)

    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(chair)
    body = web.get(page).get_data(as_text=True)
    # Art. 10(8), 26: the period and the count; Art. 11(2): the organiser applies by 9 April.
    assert "no 05.03.2026 līdz 03.04.2026" in body and "plkst. 24.00" in body
    assert 'data-testid="apply-due"' in body and "līdz 09.04.2026" in body
    assert web.post(f"{page}/check").status_code == 303  # not before the application
    web = login_as(second)
    assert web.post(f"{page}/apply").status_code == 403  # only the organiser
    web = login_as(resident)
    assert web.post(f"{page}/apply").status_code == 302
    db_session.expire_all()
    assert 'data-testid="check-due"' in web.get(page).get_data(as_text=True)
    web = login_as(chair)
    assert web.post(f"{page}/check").status_code == 302
    db_session.expire_all()
    body = web.get(page).get_data(as_text=True)
    assert 'data-testid="referendum-opened"' in body
    assert "Derīgi paraksti: 2" in body
    assert second.person_ref  # signed in person, counted once


def test_ineligible_resident_cannot_submit(login_as, people, db_session):
    muni = municipality(db_session)
    web = login_as(people.voter(code_for(date(1970, 1, 1), 9), "Svešs"))
    response = web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Q?", "reasons": "R."})
    assert response.status_code == 422
    assert "Pieteikties var tikai" in response.get_data(as_text=True)


def test_dismissal_in_the_first_year_is_refused(login_as, people, db_session, keys):
    muni = municipality(db_session)
    muni.council_elected_on = date(2025, 6, 7)
    web = login_as(_voter(db_session, keys, people, muni, 3))
    response = web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "dismissal", "question": "Atlaist domi?",
        "reasons": "R."})
    assert response.status_code == 422
    assert "pirmajā vai pēdējā" in response.get_data(as_text=True)


def test_undecided_initiative_is_not_public(client, login_as, people, db_session, keys):
    muni = municipality(db_session)
    web = login_as(_voter(db_session, keys, people, muni, 4))
    web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Q?", "reasons": "R."})
    initiative = db_session.query(Initiative).one()
    assert web.get(f"/initiatives/{initiative.id}").status_code == 200
    anonymous = client.application.test_client()
    assert anonymous.get(f"/initiatives/{initiative.id}").status_code == 404


def test_art4_6_art26_short_count_waits_for_signatures_of_the_30_days_registered_after_them(
        app, login_as, people, db_session, keys, clock):
    """Art. 4(6), 26: one signature short at midnight after the 30th day, the page says the
    collection closed and the count is not final yet; a notary's signature of the last day
    registered on 7 April meets the threshold and the organiser is asked to apply."""
    from portal.initiatives.tasks import run_initiative_deadlines

    muni = municipality(db_session)
    muni.voters_at_last_election = 10  # 15 % -> 2 signatures
    resident = _voter(db_session, keys, people, muni, 1)
    _voter(db_session, keys, people, muni, 2)
    web = login_as(resident)
    web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    initiative = db_session.query(Initiative).one()
    page = f"/initiatives/{initiative.id}"
    web = login_as(people.chair())
    web.post(f"{page}/decide", data={"decision": "can", "question": "Vai atbalstāt?",
                                     "version": initiative.case.version})
    clock.set(OPEN)
    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(resident)
    assert web.post(f"{page}/sign").status_code == 302
    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(people.member())
    assert "skaits būs galīgs" in web.get(page).get_data(as_text=True)
    clock.set(datetime(2026, 4, 7, 6, tzinfo=UTC))
    web = login_as(people.member())
    assert web.post(f"{page}/signatures", data={
        "personal_code": code_for(date(1970, 1, 1), 2), "certifier_type": "notary",
        "certifier_name": "Notāre Liepa", "signed_on": "2026-04-03"}).status_code == 302
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    db_session.expire_all()
    assert db_session.get(Initiative, initiative.id).case.state == "collected"



def _submitted(login_as, people, db_session, keys):
    """A resident of a municipality of 10 voters submits an initiative: (resident, it)."""
    muni = municipality(db_session)
    muni.voters_at_last_election = 10
    resident = _voter(db_session, keys, people, muni, 1)
    login_as(resident).post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    return resident, db_session.query(Initiative).one()

def test_art10_deciding_preselects_nothing_and_asks_naming_the_consequence(
        login_as, people, db_session, keys):
    """Art. 10(4)-(8): the chair's decision has no preselected choice, and recording it asks
    first (data-confirm, read by static/js/confirm.js) and says beside the button, also
    without JavaScript, what follows: publication, collection, the applicants told, final."""
    _resident, initiative = _submitted(login_as, people, db_session, keys)
    page = f"/initiatives/{initiative.id}"
    web = login_as(people.chair())
    html = web.get(page).get_data(as_text=True)
    assert '<option selected value="">— izvēlieties lēmumu —</option>' in html or \
        '<option value="">— izvēlieties lēmumu —</option>' in html
    assert 'name="decision" required' in html
    assert "selected value=\"can\"" not in html and 'value="can" selected' not in html
    assert 'data-confirm="Reģistrēt lēmumu? To nevar atsaukt: iesniedzējiem paziņo' in html
    assert "Reģistrētu lēmumu nevar atsaukt." in html and "js/confirm.js" in html
    assert 'aria-describedby="decide-why"' in html

    refused = web.post(f"{page}/decide", data={"decision": "", "question": "Vai atbalstāt?",
                                               "version": initiative.case.version})
    assert refused.status_code == 303 and refused.headers["Location"].endswith("#decide")
    assert "Izvēlieties lēmumu" in web.get(page).get_data(as_text=True)
    db_session.refresh(initiative)
    assert initiative.case.state == "submitted" and initiative.decision is None

    client = login_as(people.chair())
    client.post("/lang/en")
    english = client.get(page).get_data(as_text=True)
    assert "Record the decision? It cannot be undone" in english


def test_the_chairs_own_decision_is_not_an_unread_message_for_her(login_as, people,
                                                                   db_session, keys):
    """The notice of the decision (Art. 10(4)-(6)) is news to the applicant, not to the chair
    who took it: it is read for her, unread for the applicant."""
    from messaging.services import unread_threads

    resident, initiative = _submitted(login_as, people, db_session, keys)
    chair = people.chair()
    answer = login_as(chair).post(f"/initiatives/{initiative.id}/decide", data={
        "decision": "can", "question": "Vai atbalstāt?", "version": initiative.case.version})
    assert answer.status_code in (302, 303)
    db_session.expire_all()
    assert unread_threads(db_session, chair) == []
    assert len(unread_threads(db_session, resident)) == 1
