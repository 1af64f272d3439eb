"""An outside attacker against signature withdrawal (POST /initiatives/<id>/withdraw) and the
board's count (/initiatives/<id>/board/count.json): withdrawing someone else's signature,
withdrawing twice, after the close (Art. 26), signing again after a withdrawal, what the board
and its count show, and the count of an initiative that is not public."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from portal.initiatives.tasks import publish_signature_boards, run_initiative_deadlines
from referendum_core.crypto.signature_board import verify_board
from referendum_core.signature_board import BoardEntry
from referendum_core.signatures import Signature
from tests.portal.initiatives.test_signature_board_views import _collecting, _voter

RECEIPT = re.compile(r'<code class="receipt">([0-9a-f]{64})</code>')


def _receipt(web, page: str) -> str:
    return RECEIPT.search(web.get(page).get_data(as_text=True)).group(1)


def _publish(app, db_session) -> None:
    with app.app_context():
        publish_signature_boards.delay().get()
    db_session.expire_all()


def test_art11_1_a_voter_cannot_withdraw_anothers_signature_nor_withdraw_twice(
        app, login_as, people, db_session, keys, clock):
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    login_as(resident).post(f"{page}/sign")
    intruder = login_as(_voter(db_session, keys, people, muni, 2))
    assert intruder.post(f"{page}/withdraw").status_code == 303
    assert "nav tiešsaistes paraksta" in intruder.get(page).get_data(as_text=True)
    assert db_session.query(Signature).count() == 1

    web = login_as(resident)
    assert web.post(f"{page}/withdraw").status_code == 302
    assert web.post(f"{page}/withdraw").status_code == 303  # the refusal, on the page
    assert db_session.query(Signature).count() == 0
    _publish(app, db_session)
    document = json.loads(web.get(f"{page}/board.json").get_data())
    assert [e["kind"] for e in document["entries"]] == ["signature", "exclusion"]
    assert verify_board(document).count == 0


def test_art26_after_the_close_the_signature_stays(app, login_as, people, db_session, keys,
                                                   clock):
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    web.post(f"{page}/sign")
    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    web = login_as(resident)  # a new session: the clock moved a month
    response = web.post(f"{page}/withdraw")
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert db_session.query(Signature).count() == 1


def test_signing_again_after_a_withdrawal_gives_a_new_receipt_and_one_count(
        app, login_as, people, db_session, keys, clock):
    """The old receipt stays excluded; signing again cannot bring it back, and the
    withdrawal and the new signature, in one batch, verify and count once."""
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    web.post(f"{page}/sign")
    first = _receipt(web, page)
    _publish(app, db_session)
    web.post(f"{page}/withdraw")
    web.post(f"{page}/sign")
    second = _receipt(web, page)
    assert second != first
    _publish(app, db_session)
    summary = verify_board(json.loads(web.get(f"{page}/board.json").get_data()))
    assert summary.count == 1
    assert summary.receipt_status(first) == ("excluded", "withdrawn")
    assert summary.receipt_status(second) == ("on_board", None)


def test_the_count_says_nothing_about_who_and_is_not_shown_before_the_decision(
        app, login_as, people, db_session, keys, clock):
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    web.post(f"{page}/sign")
    web.post(f"{page}/withdraw")
    anonymous = app.test_client()
    count = json.loads(anonymous.get(f"{page}/board/count.json").get_data())
    # nor how many wait: that number moving as a watched person signs would tell it
    assert set(count) == {"count", "signatures", "exclusions", "threshold", "count_text",
                          "summary_text"}
    assert count["count"] == 0
    text = json.dumps(count)
    assert resident.person_ref not in text and "withdrawn" not in text
    for tail in ("check-decision.pdf", "check-decision.pdf.asc"):  # no check yet (Art. 13)
        assert anonymous.get(f"{page}/{tail}").status_code == 404


def test_the_count_of_an_initiative_not_yet_admissible_is_not_public(
        app, login_as, people, db_session, keys, clock):
    from referendum_core.initiatives import Initiative
    from tests.conftest import municipality

    muni = municipality(db_session)
    applicant = login_as(_voter(db_session, keys, people, muni, 1))
    applicant.post("/initiatives/new", data={
        "municipality_id": muni.id, "subject": "strategy", "basis_date": "2026-02-01",
        "question": "Vai atbalstāt?", "reasons": "Tāpēc."})
    initiative = db_session.query(Initiative).one()
    other = login_as(_voter(db_session, keys, people, muni, 2))
    for web in (app.test_client(), other):
        for tail in ("board/count.json", "board.json", "board", "check-decision.pdf"):
            assert web.get(f"/initiatives/{initiative.id}/{tail}").status_code == 404, tail
    assert other.post(f"/initiatives/{initiative.id}/withdraw").status_code == 404


class TestSignAndWithdrawInALoop:
    """Each withdrawal and signing again adds two entries to the public board for good: a
    signer looping sign/withdraw would bloat every copy of the board."""

    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True}

    def test_a_signers_withdrawals_are_limited(self, app, login_as, people, db_session, keys,
                                               clock):
        initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
        page = f"/initiatives/{initiative.id}"
        web = login_as(resident)
        statuses = []
        for _ in range(4):
            web.post(f"{page}/sign")
            statuses.append(web.post(f"{page}/withdraw").status_code)
        assert statuses == [302, 302, 302, 429]
        assert db_session.query(Signature).count() == 1  # the last one stands
        assert db_session.query(BoardEntry).count() == 7
