"""The signature board through HTTP: a voter signs and is shown a receipt, looks it up on the
public board (waiting, then on the board after the batch), downloads the board as JSON and it
verifies; the count stands beside the threshold; lv and en; a malformed receipt is a clear
message, not an error."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

from portal.celery_app import celery
from referendum_core.crypto.signature_board import verify_board
from referendum_core.initiatives import Initiative
from referendum_core.signature_board import TAG_KEY_PURPOSE
from tests.conftest import municipality
from tests.register_data import add_person, code_for

OPEN = datetime(2026, 3, 5, 8, tzinfo=UTC)


def _voter(db_session, keys, people, muni, serial):
    code = code_for(date(1970, 1, 1), serial)
    add_person(db_session, keys.personal_codes, code, born=date(1970, 1, 1), municipality=muni)
    return people.voter(code, f"Vēlētājs {serial}")


def _collecting(app, login_as, people, db_session, keys, clock):
    muni = municipality(db_session)
    muni.voters_at_last_election = 10  # 15 % -> 2 signatures
    resident = _voter(db_session, keys, people, muni, 1)
    web = login_as(resident)
    web.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    initiative = db_session.query(Initiative).one()
    web = login_as(people.chair())
    web.post(f"/initiatives/{initiative.id}/decide", data={
        "decision": "can", "question": "Vai atbalstāt?", "version": initiative.case.version})
    clock.set(OPEN)
    from portal.initiatives.tasks import run_initiative_deadlines

    with app.app_context():
        run_initiative_deadlines.delay()
    return initiative, resident, muni


def test_signer_gets_a_receipt_and_finds_it_on_the_board(app, client, login_as, people,
                                                         db_session, keys, clock):
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    assert web.post(f"{page}/sign").status_code == 302
    body = web.get(page).get_data(as_text=True)
    receipt = re.search(r'data-testid="own-receipt">.*?<code class="receipt">([0-9a-f]{64})</code>',
                        body, re.S).group(1)
    assert 'data-testid="board-summary"' in body and "0 no 2" in body
    # how many wait is not shown: it would move as a watched person signs
    assert "gaida" not in body and "partijās pa vismaz 1" in body

    board = web.get(f"{page}/board?receipt={receipt}").get_data(as_text=True)
    assert "Šī kvīts gaida publicēšanu" in board
    assert json.loads(web.get(f"{page}/board.json").get_data())["entries"] == []

    from portal.initiatives.tasks import publish_signature_boards

    with app.app_context():
        assert publish_signature_boards.delay().get() == 1
    db_session.expire_all()
    board = web.get(f"{page}/board?receipt={receipt.upper()}").get_data(as_text=True)
    assert "Šī kvīts ir tāfelē un ieskaitīta" in board
    assert 'data-testid="board-count">1 no 2' in board

    response = web.get(f"{page}/board.json")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    document = json.loads(response.get_data())
    summary = verify_board(document)
    assert summary.count == 1 and summary.receipt_status(receipt) == ("on_board", None)
    assert summary.checkpoints == 1  # the batch's head is signed
    text = response.get_data(as_text=True)
    assert resident.person_ref not in text
    assert keys.derived_key(TAG_KEY_PURPOSE).hex() not in text  # the tag key stays inside


def test_board_page_is_public_in_both_languages_and_refuses_bad_receipts_clearly(
        app, client, login_as, people, db_session, keys, clock):
    initiative, _, _ = _collecting(app, login_as, people, db_session, keys, clock)
    anonymous = app.test_client()
    page = f"/initiatives/{initiative.id}/board"
    lv = anonymous.get(page)
    assert lv.status_code == 200 and "Parakstu tāfele" in lv.get_data(as_text=True)
    bad = anonymous.get(f"{page}?receipt=not-a-receipt").get_data(as_text=True)
    assert 'role="alert"' in bad and "64 zīmes" in bad and 'aria-invalid="true"' in bad
    unknown = anonymous.get(f"{page}?receipt={'ab' * 32}").get_data(as_text=True)
    assert "nav zināma" in unknown
    with anonymous.session_transaction() as session:
        session["lang"] = "en"
    en = anonymous.get(f"{page}?receipt={'ab' * 32}").get_data(as_text=True)
    assert "Signature board" in en and "This receipt is not known" in en
    assert 'name="viewport"' in en  # the base layout serves phones
    assert anonymous.get(f"/initiatives/{initiative.id}/board.json").status_code == 200


def test_publisher_is_registered_with_celery_beat(app):
    """Each area registers its own beat entry; the board's runs well within 10 minutes."""
    schedule = celery.conf.beat_schedule
    entry = schedule["initiatives-publish-signature-boards"]
    assert entry["task"] == "portal.initiatives.tasks.publish_signature_boards"
    assert entry["schedule"] <= 600
    assert entry["task"] in celery.tasks


def test_art13_after_the_check_the_board_shows_exclusions_and_the_commissions_count(
        app, login_as, people, db_session, keys, clock):
    """Art. 13: the resident signed online and on paper; the check excludes the online one as
    a duplicate (the in-person one stays) and the board's count is the commission's."""
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    second = _voter(db_session, keys, people, muni, 2)
    web = login_as(resident)
    web.post(f"{page}/sign")
    own = web.get(page).get_data(as_text=True)
    online_receipt = re.search(r'<code class="receipt">([0-9a-f]{64})</code>', own).group(1)
    web = login_as(second)
    web.post(f"{page}/sign")
    web = login_as(people.member())
    web.post(f"{page}/signatures", data={
        "personal_code": code_for(date(1970, 1, 1), 1), "certifier_type": "notary",
        "certifier_name": "Notāre Liepa", "signed_on": "2026-03-05"})
    paper = re.search(r"tāfelei: ([0-9a-f]{64})", web.get(page).get_data(as_text=True))
    assert paper and paper.group(1) != online_receipt

    from portal.initiatives.tasks import run_initiative_deadlines

    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(resident)
    assert web.post(f"{page}/apply").status_code == 302
    web = login_as(people.chair())
    assert web.post(f"{page}/check").status_code == 302
    db_session.expire_all()
    initiative = db_session.get(Initiative, initiative.id)
    assert initiative.valid_signatures == 2

    document = json.loads(web.get(f"{page}/board.json").get_data())
    summary = verify_board(document)
    assert (summary.signatures, summary.exclusions, summary.count) == (3, 1, 2)
    assert summary.receipt_status(online_receipt) == ("excluded", "duplicate")
    assert summary.receipt_status(paper.group(1)) == ("on_board", None)
    board = web.get(f"{page}/board?receipt={online_receipt}").get_data(as_text=True)
    assert "parakstījies divreiz; paliek klātienē dotais paraksts" in board
