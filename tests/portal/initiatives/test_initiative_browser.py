"""An initiative in Chromium, on a movable clock: a resident submits it (Art. 7(3), 10(1)), the
commission chair decides "can" (Art. 10(4)-(6)), it is published on the 3rd working day
(Art. 25(2)), both demo voters sign online and a second signature is refused (Art. 11(1)), the
collection closes after 30 days (Art. 10(8)), the commission's check reaches the threshold and
opens the referendum case (Art. 13) and offers its signed decision; a signer's receipt is
found on the public signature board on a phone, whose count follows the batches live. axe-core finds no serious or critical problem on the
initiative pages."""
from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from referendum_core.clock import FixedClock
from tests.browser import Actors, LiveServer, check_a11y, require_chromium, submit

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ANNA, JANIS = "161175-19997", "328673-00679"  # the demo voters (portal/seed.py)
QUESTION = "Vai atbalstāt Ādažu ilgtspējīgas attīstības stratēģijas grozījumus?"


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[LiveServer]:
    """The demo on our clock; Ādaži's base figure is 10 voters (15 % -> 2 signatures). The demo
    seed already puts the two demo voters into the Population Register as Ādaži residents; the
    same extract imported again changes nothing (a diff)."""
    require_chromium()
    from portal.database import in_transaction
    from referendum_core.organisation import Municipality
    from referendum_core.register_import import import_register
    from tests.browser import start_live_server

    server = start_live_server(tmp_path_factory.mktemp("initiative-live"), clock=clock)
    live = next(server)
    app = live.app
    extract = ("personal_code,name,birth_date,citizenship,municipality\n"
               f"{ANNA},Anna Bērziņa,1975-11-16,LV,0023000\n"
               f"{JANIS},Jānis Kalniņš,1986-03-28,LV,0023000\n").encode()

    def prepare(session: Any) -> None:
        adazi = session.query(Municipality).filter_by(atvk_code="0023000").one()
        adazi.voters_at_last_election = 10
        _, report = import_register(session, clock, None, app.extensions["keys"].personal_codes,
                                    "population", io.BytesIO(extract), file_format="csv",
                                    mode="abort", municipality=adazi, filename="demo.csv")
        assert report.applied and report.inserted == 0 and report.unchanged == 2

    with app.app_context():
        in_transaction(prepare)
    yield live
    with contextlib.suppress(StopIteration):
        next(server)


def run_deadlines(live: LiveServer, clock: FixedClock) -> dict[str, int]:
    """What Celery beat does every few minutes (portal.initiatives.tasks)."""
    from portal.database import in_transaction
    from portal.initiatives import services

    with live.app.app_context():
        return in_transaction(lambda session: services.run_due_steps(
            session, clock, live.app.extensions["calendar"]))


@pytest.fixture()
def people(browser: Any, live: LiveServer, clock: FixedClock) -> Iterator[Actors]:
    crowd = Actors(browser, live, clock)
    yield crowd
    crowd.close()


def test_resident_initiative_to_referendum(live, clock, people):
    from playwright.sync_api import expect

    from referendum_core.initiatives import Initiative

    # A resident submits the initiative.
    anna = people.voter(ANNA)
    anna.goto(f"{live.url}/initiatives/")
    anna.get_by_role("link", name="Uzsākt iniciatīvu").click()
    anna.wait_for_url(re.compile(r"/initiatives/new$"))
    assert check_a11y(anna) == []
    anna.get_by_label("Pašvaldība").select_option(label="Ādažu novads")
    anna.get_by_label("Temats").select_option("strategy")
    anna.get_by_label("Stratēģijas apstiprināšanas vai lēmuma publicēšanas datums").fill(
        "2026-02-01")
    anna.get_by_label("Jautājums").fill(QUESTION)
    anna.get_by_label("Pamatojums").fill("Stratēģija jāpapildina ar sabiedrības viedokli.")
    submit(anna, "Iesniegt iniciatīvu")
    expect(anna.get_by_role("heading", name=QUESTION)).to_be_visible()
    initiative_url = anna.url

    # The commission chair decides "can" (15 % of 10 voters: 2 signatures).
    chair = people.official("chair.adazi@demo.cvk.lv")
    chair.goto(initiative_url)
    assert check_a11y(chair) == []
    chair.get_by_label("Lēmums").select_option("can")
    submit(chair, "Reģistrēt lēmumu")
    assert chair.get_by_test_id("signature-count").get_attribute("max") == "2"

    # Published on the 3rd working day: the collection opens.
    with live.app.app_context():
        session = live.app.extensions["portal_db"].new_session()
        starts, ends = session.query(Initiative.collection_starts_at,
                                     Initiative.collection_ends_at).one()
        session.close()
    clock.set(starts + timedelta(minutes=5))
    assert run_deadlines(live, clock)["published"] == 1

    # Anna signs (signed in anew: days have passed); the same form sent again from a second
    # tab is refused with a clear message.
    anna = people.voter(ANNA)
    anna.goto(initiative_url)
    second_tab = anna.context.new_page()
    second_tab.goto(initiative_url)
    # The page's script signs (portal/static/js/sign.js) and then shows the page again.
    anna.get_by_role("button", name="Parakstīt šo iniciatīvu").click()
    anna.get_by_test_id("own-signature").wait_for()
    expect(anna.get_by_text("Paldies! Jūsu paraksts ir reģistrēts.")).to_be_visible()
    assert anna.get_by_test_id("own-signature").is_visible()
    assert check_a11y(anna) == []
    second_tab.get_by_role("button", name="Parakstīt šo iniciatīvu").click()
    second_tab.get_by_test_id("own-signature").wait_for()  # shown again, as it is now
    # The sentence is put on top by the page's script once the page has loaded: wait for it.
    expect(second_tab.get_by_text(
        "Šī persona jau ir parakstījusi šo iniciatīvu; persona parakstās vienu reizi un tikai "
        "vienā veidā.")).to_be_visible()
    assert second_tab.get_by_test_id("signature-count").get_attribute("value") == "1"

    # Jānis signs: the threshold (2) is reached.
    janis = people.voter(JANIS)
    janis.goto(initiative_url)
    janis.get_by_role("button", name="Parakstīt šo iniciatīvu").click()
    janis.get_by_test_id("own-signature").wait_for()
    progress = janis.get_by_test_id("signature-count")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "2"

    # Jānis's receipt: waiting for publication, then on the public board after the batch;
    # looked up on a phone by someone not signed in (the board is public).
    receipt = janis.get_by_test_id("own-receipt").locator("code").inner_text()
    board = people.page(phone=True)
    board.goto(f"{initiative_url}/board")
    board.get_by_label("Kvīts (64 zīmes)").fill(receipt)
    submit(board, "Meklēt")
    expect(board.get_by_text("Šī kvīts gaida publicēšanu")).to_be_visible()
    assert board.get_by_test_id("board-count").inner_text() == "0 no 2 vajadzīgajiem parakstiem"
    with live.app.app_context():
        from portal.database import in_transaction
        from portal.initiatives import services

        assert in_transaction(lambda session: services.publish_signature_boards(
            session, clock)) == 2
    # The count beside the threshold follows the batches without a reload: the page polls
    # board/count.json, and at once when the tab comes back into view.
    board.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(board.get_by_test_id("board-count")).to_have_text(
        "2 no 2 vajadzīgajiem parakstiem", timeout=15000)
    # how many wait is not on the public page (it would move as a watched person signs)
    assert board.get_by_test_id("board-pending").count() == 0
    board.reload()
    assert board.get_by_test_id("receipt-status").inner_text().startswith(
        "Šī kvīts ir tāfelē un ieskaitīta")
    assert board.get_by_test_id("board-count").inner_text() == "2 no 2 vajadzīgajiem parakstiem"
    assert board.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert check_a11y(board) == []

    # The 30 days end: the collection closes by itself; the commission checks.
    clock.set(ends + timedelta(minutes=1))
    assert run_deadlines(live, clock)["closed"] == 1
    chair = people.official("chair.adazi@demo.cvk.lv")
    chair.goto(initiative_url)
    # Art. 11(2): the organiser's application, handed in on paper and recorded by the chair.
    submit(chair, "Iesniegt vēlēšanu komisijai iesniegumu par pārbaudi")
    chair.goto(initiative_url)
    submit(chair, "Pārbaudīt parakstus")
    chair.goto(initiative_url)
    assert "2" in chair.get_by_test_id("valid-signatures").inner_text()
    assert chair.get_by_test_id("referendum-opened").is_visible()
    # Art. 13: the decision, signed by the commission (PAdES), offered for download.
    assert chair.get_by_role("link", name="Komisijas lēmums (PDF)").is_visible()
    assert check_a11y(chair) == []
    with live.app.app_context():
        session = live.app.extensions["portal_db"].new_session()
        initiative = session.query(Initiative).one()
        assert initiative.case.state == "reached"
        assert initiative.referendum_case_id is not None
        session.close()
