"""A voter's own work in the initiatives (``portal.initiatives.voter_work``): while an
initiative she may sign collects signatures (Art. 10(8)) and she has not signed (Art. 11(1)),
her home page lists it with the collection's last day; a voter of another municipality
(Art. 7) and the one who signed see nothing."""
from __future__ import annotations

from datetime import UTC, date, datetime

from referendum_core.initiatives import Initiative
from tests.conftest import municipality
from tests.portal.test_work import nav_counts, work_items
from tests.register_data import add_person, code_for

OPEN = datetime(2026, 3, 5, 8, tzinfo=UTC)


def _voter(db_session, keys, people, muni, serial):
    code = code_for(date(1970, 1, 1), serial)
    add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=muni)
    return people.voter(code, f"Vēlētājs {serial}")


def test_art10_8_art11_1_a_voter_finds_the_initiative_she_may_sign_until_she_signs(
        app, login_as, people, db_session, keys, clock):
    muni = municipality(db_session)
    muni.voters_at_last_election = 10
    resident = _voter(db_session, keys, people, muni, 1)
    neighbour = _voter(db_session, keys, people, muni, 2)
    outsider = _voter(db_session, keys, people, municipality(db_session, "0001000"), 3)
    assert login_as(resident).post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."}).status_code == 302
    initiative = db_session.query(Initiative).one()
    page = f"/initiatives/{initiative.id}"
    # Not yet collecting: nothing to sign.
    assert page not in work_items(login_as(neighbour).get("/").get_data(as_text=True))
    assert login_as(people.chair()).post(f"{page}/decide", data={
        "decision": "can", "question": "Vai atbalstāt?",
        "version": initiative.case.version}).status_code == 302
    clock.set(OPEN)
    from portal.initiatives.tasks import run_initiative_deadlines

    with app.app_context():
        run_initiative_deadlines.delay()
    db_session.expire_all()
    web = login_as(neighbour)
    home = web.get("/").get_data(as_text=True)
    assert page in work_items(home)
    assert "Iniciatīva vāc parakstus līdz 03.04.2026 ieskaitot" in home
    assert 'data-testid="no-work"' not in home
    assert nav_counts(home) == []  # listed on the home page only: no query on every page
    outside = login_as(outsider).get("/").get_data(as_text=True)
    assert page not in work_items(outside)
    web = login_as(neighbour)
    assert web.post(f"{page}/sign").status_code == 302
    assert page not in work_items(web.get("/").get_data(as_text=True))
