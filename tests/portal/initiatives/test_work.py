"""Initiatives awaiting the municipality's decision (Art. 10(4)) find the chair: counted in the
navigation, listed on the home page and on the "Initiatives" page, and reachable from the
initiative's case (its bare moves are not offered: the decision records more than a move)."""
from __future__ import annotations

from datetime import date

from referendum_core.initiatives import Initiative
from tests.conftest import municipality
from tests.portal.test_work import nav_counts, work_items
from tests.register_data import add_person, code_for


def _submitted(db_session, keys, people, login_as) -> Initiative:
    muni = municipality(db_session)
    muni.voters_at_last_election = 10
    code = code_for(date(1970, 1, 1), 1)
    add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=muni)
    resident = people.voter(code, "Vēlētājs Viens")
    response = login_as(resident).post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt jaunu tiltu?", "reasons": "Tāpēc."})
    assert response.status_code == 302
    return db_session.query(Initiative).one()


def test_art10_4_the_chair_finds_the_initiative_awaiting_a_decision(db_session, keys, people,
                                                                   login_as):
    initiative = _submitted(db_session, keys, people, login_as)
    chair, member, elsewhere = people.chair(), people.member(), people.chair("0001000")
    client = login_as(chair)
    home = client.get("/").get_data(as_text=True)
    assert "1 gaida lēmumu" in nav_counts(home)
    decide = f"/initiatives/{initiative.id}#decide"
    assert decide in work_items(home) and "vai referendumu var rīkot?" in home
    listing = client.get("/initiatives/").get_data(as_text=True)
    assert 'data-testid="awaiting-decision"' in listing and decide in listing
    assert "Jūs lemjat komisijas vārdā." in listing and "10. panta ceturtā daļa" in listing
    assert 'id="decide"' in client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)

    # A member sees it awaiting (not theirs to decide); another municipality sees nothing.
    seen = login_as(member).get("/initiatives/").get_data(as_text=True)
    assert "Vai atbalstāt jaunu tiltu?" in seen and "Jūs lemjat" not in seen
    assert nav_counts(login_as(member).get("/").get_data(as_text=True)) == []
    other = login_as(elsewhere).get("/initiatives/").get_data(as_text=True)
    assert "Vai atbalstāt jaunu tiltu?" not in other
    assert "Vai atbalstāt jaunu tiltu?" not in login_as(people.cvk_officer()).get(
        "/").get_data(as_text=True).split("</header>")[0]


def test_art10_4_the_decision_is_reached_from_the_case_not_by_its_bare_move(
        db_session, keys, people, login_as):
    initiative = _submitted(db_session, keys, people, login_as)
    client = login_as(people.chair())
    page = client.get(f"/cases/{initiative.case_id}").get_data(as_text=True)
    assert 'data-testid="own-page"' in page
    assert f'href="/initiatives/{initiative.id}#decide"' in page
    assert 'data-testid="do-approve"' not in page
    refused = client.post(f"/cases/{initiative.case_id}/transition", data={
        "transition": "approve", "version": initiative.case.version, "note": ""})
    assert refused.status_code >= 400  # a move only the decision itself makes
    db_session.expire_all()
    assert initiative.case.state == "submitted" and initiative.decision is None
