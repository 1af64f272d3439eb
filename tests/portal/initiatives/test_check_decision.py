"""Withdrawing a signature, the live count and the commission's decision through HTTP: a
signer withdraws while signing is open and the board lists the receipt as withdrawn; the
count beside the threshold is polled as JSON; after the check (Art. 13) the decision is
issued as a PDF signed with PAdES (validated with pyHanko's validator, trust root the test
CA) and with OpenPGP, and its count is the board's, recounted independently."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from referendum_core.crypto.signature_board import verify_board
from referendum_core.initiatives import Initiative
from tests.pades import check_commission_signature
from tests.portal.initiatives.test_signature_board_views import _collecting, _voter

RECOUNT = Path(__file__).resolve().parents[2] / "independent" / "recount_signatures.py"


def _receipt(web, page):
    body = web.get(page).get_data(as_text=True)
    return re.search(r'data-testid="own-receipt">.*?<code class="receipt">([0-9a-f]{64})</code>',
                     body, re.S).group(1)


def _publish(app):
    from portal.initiatives.tasks import publish_signature_boards

    with app.app_context():
        return publish_signature_boards.delay().get()


def test_art13_withdrawn_signature_is_excluded_and_the_pades_decision_matches_the_board(
        app, login_as, people, db_session, keys, clock, tmp_path):
    """Art. 13: the decision counts the signatures that stand; the one withdrawn during the
    collection is on the board as a ``withdrawn`` exclusion and the board's count, recounted
    without the portal, is the decision's."""
    initiative, resident, muni = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    signers = [resident, _voter(db_session, keys, people, muni, 2),
               _voter(db_session, keys, people, muni, 3)]
    receipts = []
    for person in signers:
        web = login_as(person)
        assert web.post(f"{page}/sign").status_code == 302
        receipts.append(_receipt(web, page))
    assert _publish(app) == 3
    web = login_as(signers[1])
    assert 'data-testid="withdraw-form"' in web.get(page).get_data(as_text=True)
    done = web.post(f"{page}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert receipts[1] in done and "atsaukts" in done
    assert 'data-testid="own-receipt"' not in done  # no signature any more
    live = web.get(f"{page}/board/count.json").get_json()
    assert (live["count"], live["threshold"]) == (3, 2) and "pending" not in live
    assert _publish(app) == 1
    live = web.get(f"{page}/board/count.json").get_json()
    assert (live["count"], live["exclusions"], live["count_text"]) == (2, 1, "2 no 2 vajadzīgajiem parakstiem")
    board = web.get(f"{page}/board?receipt={receipts[1]}").get_data(as_text=True)
    assert "parakstītājs to atsauca" in board

    from portal.initiatives.tasks import run_initiative_deadlines

    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    db_session.expire_all()
    with app.app_context():
        run_initiative_deadlines.delay()
    assert login_as(resident).post(f"{page}/apply").status_code == 302
    chair = login_as(people.chair())
    assert chair.get(f"{page}/check-decision.pdf").status_code == 404  # not decided yet
    assert chair.post(f"{page}/check").status_code == 302
    db_session.expire_all()
    assert db_session.get(Initiative, initiative.id).valid_signatures == 2

    document = json.loads(chair.get(f"{page}/board.json").get_data())
    summary = verify_board(document)
    assert (summary.signatures, summary.exclusions, summary.count) == (3, 1, 2)
    assert summary.receipt_status(receipts[1]) == ("excluded", "withdrawn")
    (tmp_path / "board.json").write_text(json.dumps(document))
    recount = subprocess.run([sys.executable, "-I", str(RECOUNT), str(tmp_path / "board.json")],  # noqa: S603
                             capture_output=True, text=True, timeout=60, check=False)
    assert (recount.returncode, recount.stdout.strip()) == (0, "2")

    public = app.test_client()
    assert 'data-testid="check-decision"' in public.get(page).get_data(as_text=True)
    pdf = public.get(f"{page}/check-decision.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pades = check_commission_signature(app, pdf.data)
    assert pades.is_valid, pades.summary
    assert not check_commission_signature(app, pdf.data.replace(b"%PDF-1.", b"%PDF-2.", 1)).intact
    signature = public.get(f"{page}/check-decision.pdf.asc").get_data(as_text=True)
    from portal.messages.setup import pgp_for

    pgp = pgp_for(app.config["PORTAL_GNUPGHOME"])
    assert pgp.verify_detached(pdf.data, signature) == pgp.archive_fingerprint


def test_art11_1_a_withdrawn_signer_may_sign_again_with_a_new_receipt(
        app, login_as, people, db_session, keys, clock):
    """Art. 11(1): one signature per person at any time; after withdrawing, signing again
    gives a fresh receipt and the old one stays excluded."""
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    web.post(f"{page}/sign")
    first = _receipt(web, page)
    assert web.post(f"{page}/withdraw").status_code == 302
    assert web.post(f"{page}/sign").status_code == 302
    second = _receipt(web, page)
    assert second != first
    _publish(app)
    summary = verify_board(json.loads(web.get(f"{page}/board.json").get_data()))
    assert summary.count == 1 and summary.receipt_status(first) == ("excluded", "withdrawn")
    assert summary.receipt_status(second) == ("on_board", None)


def test_art26_withdrawal_is_refused_without_a_signature_and_after_the_close(
        app, login_as, people, db_session, keys, clock):
    """Art. 26: the count is fixed when the collection closes; nothing to withdraw is a clear
    message, not an error."""
    initiative, resident, _ = _collecting(app, login_as, people, db_session, keys, clock)
    page = f"/initiatives/{initiative.id}"
    web = login_as(resident)
    refused = web.post(f"{page}/withdraw", follow_redirects=True)
    assert refused.status_code == 200
    assert "nav tiešsaistes paraksta" in refused.get_data(as_text=True)
    web.post(f"{page}/sign")
    clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    web = login_as(resident)
    refused = web.post(f"{page}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "Paraksti pašlaik netiek vākti" in refused
    assert 'data-testid="own-receipt"' in refused  # the signature stands
