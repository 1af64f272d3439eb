"""In the browser: the observer app offline — a report filled without a connection is kept on
the phone sealed, then received exactly once when the connection returns and seen live by the
commission; two observers' differing checklists flag a conflict on the commission's home page."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, select

from referendum_core.cases.models import Case
from referendum_core.observation.models import ObserverSubmission
from tests.browser import check_a11y, sign_in_official
from tests.live_accounts import add_official, in_live_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A live portal of this module's own, with a referendum in Ādaži to observe (the shared
    demo server has none, and other modules count what it holds)."""
    from portal.accounts.models import User
    from referendum_core.clock import FixedClock, demo_clock
    from referendum_core.organisation import Municipality
    from referendum_core.voting.preparation import setup_referendum
    from tests.browser import require_chromium, start_live_server
    from tests.voting_support import CALENDAR, REFERENDUM_DAY, SET_UP_AT, referendum_case

    require_chromium()
    # Observers observe within the referendum's observation days (Art. 20(3)): the server's
    # clock runs from 10:00 on its referendum day, as a demo clock does (sign-in counts real time).
    server = start_live_server(tmp_path_factory.mktemp("observe-live"),
                               clock=demo_clock(f"{REFERENDUM_DAY.isoformat()}T10:00+02:00"))
    live = next(server)

    def referendum(session, _clock):
        then = FixedClock(SET_UP_AT)
        adazi = session.scalars(select(Municipality).where(
            Municipality.atvk_code == "0023000")).one()
        chair = session.scalars(select(User).where(
            User.email == "chair.adazi@demo.cvk.lv")).one()
        case = referendum_case(session, then, adazi, "strategy", "Vai atbalstāt stratēģiju?")
        setup_referendum(session, then, CALENDAR, chair, case=case,
                         question_en="Do you support the strategy?",
                         referendum_day=REFERENDUM_DAY)

    in_live_app(live, referendum)
    yield live
    with contextlib.suppress(StopIteration):
        next(server)

PHONE = dict(locale="lv-LV", timezone_id="Europe/Riga", viewport={"width": 390, "height": 844},
             is_mobile=True, has_touch=True, device_scale_factor=2)


def _phone(browser, live, email):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(20000)
    page = context.new_page()
    sign_in_official(page, live, email)
    page.goto(f"{live.url}/observe/")
    page.wait_for_selector("#observer-app[data-ready=yes]", state="attached")
    return context, page


def _submissions(live, observer_id):
    return in_live_app(live, lambda session, _clock: session.scalar(
        select(func.count(ObserverSubmission.id)).where(
            ObserverSubmission.observer_id == observer_id)))


def test_a_report_filled_offline_is_received_once_when_back_online(live_server, browser):
    live = live_server
    observer = add_official(live, "observer", "0023000")
    chair = add_official(live, "commission_chair", "0023000")
    context, page = _phone(browser, live, observer.email)
    desk = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    try:
        home = desk.new_page()
        sign_in_official(home, live, chair.email)
        home.goto(f"{live.url}/")
        before = int(home.get_by_test_id("critical-count").inner_text())
        assert check_a11y(page) == []
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")

        context.set_offline(True)
        page.wait_for_function("!navigator.onLine")
        form = page.locator("form.report-form").first
        form.locator("select[name=category]").select_option("ballot_box")
        form.locator("select[name=severity]").select_option("critical")
        form.locator("textarea[name=description]").fill("Urnas plombe pārplēsta bezsaistē")
        page.get_by_test_id("send-app-report").first.click()
        expect_text(page, "waiting-count", "1")
        assert "Gaida šajā tālrunī" in page.get_by_test_id("outbox-waiting").inner_text()
        # Kept sealed: the phone's outbox holds ciphertext, not the description.
        stored = page.evaluate("""() => new Promise(resolve => {
            const req = indexedDB.open("observer-outbox", 1);
            req.onsuccess = () => {
              const all = req.result.transaction("outbox").objectStore("outbox").getAll();
              all.onsuccess = () => resolve(all.result.map(e => ({
                kind: e.kind, bytes: e.ct.byteLength,
                plain: new TextDecoder().decode(e.ct).includes("pārplēsta")})));
            };
          })""")
        assert [(e["kind"], e["plain"]) for e in stored] == [("report", False)]
        assert _submissions(live, observer.user_id) == 0
        # Offline, the app still opens from the phone (the service worker's copy).
        page.reload()
        page.wait_for_selector("#observer-app")
        expect_text(page, "waiting-count", "1")

        context.set_offline(False)
        expect_text(page, "waiting-count", "0", timeout=20000)
        received = page.get_by_test_id("outbox-received").locator("li").first
        assert "Ziņojums" in received.inner_text()
        # Another attempt to send (as a second "online") finds nothing left to send.
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(1000)
        assert _submissions(live, observer.user_id) == 1
        assert in_live_app(live, lambda session, _clock: session.scalar(
            select(func.count(Case.id)).where(Case.created_by_id == observer.user_id))) == 1
        # The commission's open home page shows it as needing action, without reloading.
        home.wait_for_function(
            "n => Number(document.querySelector('[data-testid=critical-count]').textContent)"
            " === n", arg=before + 1, timeout=5000)
    finally:
        desk.close()
        context.close()


def test_two_observers_checklists_disagreeing_flag_a_conflict(live_server, browser):
    live = live_server
    observers = [add_official(live, "observer", "0023000") for _ in range(2)]
    chair = add_official(live, "commission_chair", "0023000")
    contexts = []
    try:
        for observer, answer in zip(observers, ("yes", "no"), strict=True):
            context, page = _phone(browser, live, observer.email)
            contexts.append(context)
            form = page.locator("form.checklist-form").first
            form.locator(f".item[data-item=ballot_box_empty] input[value={answer}]").check()
            page.get_by_test_id("send-checklist").first.click()
            expect_text(page, "waiting-count", "0")
            page.get_by_test_id("outbox-received").locator("li").first.wait_for()
        desk = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
        contexts.append(desk)
        home = desk.new_page()
        sign_in_official(home, live, chair.email)
        home.goto(f"{live.url}/")
        conflicts = home.get_by_test_id("conflicts")
        assert "urna ir tukša" in conflicts.inner_text()
        conflicts.locator("a").first.click()
        assert int(home.get_by_test_id("station-conflict-count").inner_text()) >= 1
        assert check_a11y(home) == []
    finally:
        for context in contexts:
            context.close()


def test_the_station_page_and_table_say_live_that_new_data_arrived(live_server, browser):
    """The station table at a laptop's 1280 px stays inside the page (its frame scrolls), links
    each station's page; both pages say politely that new data arrived, without reloading."""
    live = live_server
    observer = add_official(live, "observer", "0023000")
    chair = add_official(live, "commission_chair", "0023000")
    desk = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga",
                               viewport={"width": 1280, "height": 800})
    context = None
    try:
        table = desk.new_page()
        sign_in_official(table, live, chair.email)
        table.goto(f"{live.url}/observers/stations")
        assert table.evaluate("document.documentElement.scrollWidth") <= 1280
        link = table.locator("[data-testid^=station-link-]").first
        station = desk.new_page()
        station.goto(live.url + link.get_attribute("href"))
        station.get_by_test_id("progress").wait_for()
        for page in (table, station):
            page.wait_for_function("() => window.io && document.getElementById("
                                   "'observation-live-notice')")
            assert page.get_by_test_id("live-notice").inner_text() == ""
        table.wait_for_timeout(500)  # the pages' sockets join their rooms
        context, phone = _phone(browser, live, observer.email)
        form = phone.locator("form.checklist-form").first
        form.locator(".item[data-item=seals_intact] input[value=yes]").check()
        phone.get_by_test_id("send-checklist").first.click()
        expect_text(phone, "waiting-count", "0")
        for page in (table, station):
            page.wait_for_function(
                "() => document.querySelector('[data-testid=live-notice]').textContent"
                ".includes('Saņemti jauni dati')", timeout=5000)
            assert page.get_by_test_id("live-reload").inner_text() == "atjaunināt"
        assert check_a11y(station) == []
    finally:
        if context is not None:
            context.close()
        desk.close()


def expect_text(page, testid, value, timeout=10000):
    page.wait_for_function(
        "([id, v]) => document.querySelector(`[data-testid=${id}]`).textContent.trim() === v",
        arg=[testid, value], timeout=timeout)
