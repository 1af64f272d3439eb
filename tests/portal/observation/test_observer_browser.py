"""In the browser: the observer app offline — a report filled without a connection is kept on
the phone sealed, then received exactly once when the connection returns and seen live by the
commission; two observers' differing checklists flag a conflict on the commission's home page."""
from __future__ import annotations

import contextlib
import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
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
        home.wait_for_selector("#observation-attention[data-joined=yes]", state="attached")
        before = int(home.get_by_test_id("critical-count").inner_text())
        assert check_a11y(page) == []
        _app_ready_offline(page)  # the page asks its worker to keep it: wait until it has

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
            " === n", arg=before + 1)
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
        home.wait_for_url(re.compile(r"/r/\d+/s/\d+$"))
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
            # the page's socket has joined its rooms
            page.wait_for_selector("#observation-live-notice[data-joined=yes]", state="attached")
        context, phone = _phone(browser, live, observer.email)
        form = phone.locator("form.checklist-form").first
        form.locator(".item[data-item=seals_intact] input[value=yes]").check()
        phone.get_by_test_id("send-checklist").first.click()
        expect_text(phone, "waiting-count", "0")
        phone.get_by_test_id("outbox-received").locator("li").first.wait_for()
        for page in (table, station):
            page.wait_for_function(
                "() => document.querySelector('[data-testid=live-notice]').textContent"
                ".includes('Saņemti jauni dati')")
            assert page.get_by_test_id("live-reload").inner_text() == "atjaunināt"
        assert check_a11y(station) == []
    finally:
        if context is not None:
            context.close()
        desk.close()


STORED = """async () => ({
    databases: (await indexedDB.databases()).map(d => d.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).length})"""


def _app_ready_offline(page):
    """The app page kept by the service worker (as the first test shows)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("caches.keys().then(n => n.length > 0)")
    page.wait_for_function(
        "caches.open('observer-app-v1').then(c => c.match(location.href)).then(Boolean)")


def _nothing_left_offline(page, context, live):
    """After signing out: no outbox, no app copy, no worker; offline, /observe/ opens nothing
    of the observer."""
    assert page.evaluate(STORED) == {"databases": [], "caches": [], "workers": 0}
    context.set_offline(True)
    # No copy to open: Playwright raises net::ERR_INTERNET_DISCONNECTED.
    with contextlib.suppress(PlaywrightError):
        page.goto(f"{live.url}/observe/")
    html = None
    for _ in range(20):  # the failed navigation settles on the browser's error page
        with contextlib.suppress(PlaywrightError):
            page.wait_for_load_state()
            html = page.content()
            break
        page.wait_for_timeout(250)
    assert html is not None
    assert "observer-app" not in html and "Novērotāja lietotne" not in html



def _choose(form):
    """The report's category and severity start empty and must be chosen (as a person does);
    what was chosen or put back already stays."""
    for name, value in (("category", "ballot_box"), ("severity", "medium")):
        select = form.locator(f"select[name={name}]")
        if not select.input_value():
            select.select_option(value)

def _wait_one(page, context, live):
    """A report kept waiting on the phone (its sending fails: the network refuses it)."""
    context.route("**/observe/api/report", lambda route: route.abort())
    form = page.locator("form.report-form").first
    _choose(form)
    form.locator("textarea[name=description]").fill("Gaida tālrunī")
    page.get_by_test_id("send-app-report").first.click()
    expect_text(page, "waiting-count", "1")


@pytest.fixture()
def waiting_phone(live_server, browser):
    """An observer's phone with the app kept for offline use and one report waiting on it
    (its sending fails): (live server, observer, browser context, page); closed afterwards."""
    live = live_server
    observer = add_official(live, "observer", "0023000")
    context, page = _phone(browser, live, observer.email)
    try:
        _app_ready_offline(page)
        _wait_one(page, context, live)
        yield live, observer, context, page
    finally:
        context.close()


def test_signing_out_in_the_app_asks_first_and_leaves_nothing_of_the_observer(waiting_phone):
    live, observer, context, page = waiting_phone
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()
        else:
            dialog.accept()

    page.on("dialog", answer)
    signout = page.get_by_role("button", name="Iziet")
    with page.expect_event("dialog"):  # asked once the app has counted what waits
        signout.click()
    # Declined: still signed in, the entry still waiting.
    assert len(asked) == 1 and "nenosūtīti ieraksti: 1" in asked[0]
    expect_text(page, "waiting-count", "1")
    signout.click()
    page.wait_for_url(f"{live.url}/")
    assert len(asked) == 2
    assert page.get_by_role("link", name="Pieteikties").count() >= 1
    _nothing_left_offline(page, context, live)


def test_signing_out_elsewhere_clears_the_app_by_the_sign_out_answer(waiting_phone):
    """From a page without the app's script, only the answer's Clear-Site-Data header (Chromium,
    on http://127.0.0.1: a potentially trustworthy origin) clears the app, its key and outbox."""
    live, observer, context, page = waiting_phone
    assert "observer-outbox" in page.evaluate(STORED)["databases"]
    page.goto(f"{live.url}/")
    assert page.locator("#observer-app").count() == 0
    # Any page's sign-out asks first when the app keeps unsent entries on this phone
    # (static/js/signout-guard.js): the answer's header will delete them.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Iziet").click()
    page.get_by_role("link", name="Pieteikties").first.wait_for()
    assert len(asked) == 1 and "nenosūtīti ieraksti: 1" in asked[0]
    _nothing_left_offline(page, context, live)


def test_signing_out_of_the_app_without_a_connection_clears_nothing(waiting_phone):
    """Signing out needs the server: offline, the app says so and keeps the phone's entries
    and its copy, and the session stays (it was never ended, so nothing pretends it was)."""
    live, observer, context, page = waiting_phone
    context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    page.get_by_role("button", name="Iziet").click()
    expect_text(page, "connection", "Lai izietu, vajadzīgs savienojums: jūs joprojām esat "
                "pieteicies, un no tālruņa nekas netika dzēsts.")
    assert "observer-outbox" in page.evaluate(STORED)["databases"]
    expect_text(page, "waiting-count", "1")
    context.set_offline(False)
    page.goto(f"{live.url}/observe/")
    assert page.locator("#observer-app").count() == 1  # still signed in


def test_a_refused_entry_shows_why_and_what_and_can_be_removed_or_sent_again(live_server,
                                                                            browser):
    live = live_server
    observer = add_official(live, "observer", "0023000")
    context, page = _phone(browser, live, observer.email)
    sentence = "Jūsu novērotāja tiesības ir beigušās. Nekas netika saņemts."
    try:
        context.route("**/observe/api/report", lambda route: route.fulfill(
            status=403, content_type="application/json",
            body=json.dumps({"error": sentence, "code": "observer_rights_ended"})))
        for description in ("Pirmais atteiktais", "Otrais atteiktais"):
            form = page.locator("form.report-form").first
            form.locator("select[name=severity]").select_option("high")
            _choose(form)
            form.locator("textarea[name=description]").fill(description)
            page.get_by_test_id("send-app-report").first.click()
            page.locator("#outbox-waiting li.refused", has_text=description).wait_for()
        waiting = page.get_by_test_id("outbox-waiting")
        assert sentence in waiting.inner_text() and "Nav pieņemts" in waiting.inner_text()
        expect_text(page, "waiting-count", "2")
        first = waiting.locator("li", has_text="Pirmais atteiktais")
        first.get_by_role("button", name="Dzēst no tālruņa").click()
        expect_text(page, "waiting-count", "1")
        assert "Pirmais" not in waiting.inner_text()
        # Edit and send again: back in the form, and received once the server accepts it.
        context.unroute("**/observe/api/report")
        waiting.get_by_role("button", name="Labot un sūtīt vēlreiz").click()
        expect_text(page, "waiting-count", "0")
        form = page.locator("form.report-form").first
        assert form.locator("textarea[name=description]").input_value() == "Otrais atteiktais"
        assert form.locator("select[name=severity]").input_value() == "high"
        _choose(form)
        form.locator("textarea[name=description]").fill("Otrais, izlabots")
        page.get_by_test_id("send-app-report").first.click()
        page.get_by_test_id("outbox-received").locator("li a").first.wait_for()
        assert check_a11y(page) == []
    finally:
        context.close()


def test_times_are_the_servers_riga_time_and_a_new_report_links_to_its_case(live_server,
                                                                           browser):
    """The phone is in another time zone: the script writes 08.12.2026 20:21 in Riga time, as
    the server does, and a report just received links to its case as the page's own do."""
    live = live_server
    observer = add_official(live, "observer", "0023000")
    context = browser.new_context(**{**PHONE, "timezone_id": "America/New_York",
                                     "locale": "en-US"})
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        sign_in_official(page, live, observer.email)
        page.goto(f"{live.url}/observe/")
        page.wait_for_selector("#observer-app[data-ready=yes]", state="attached")
        form = page.locator("form.report-form").first
        _choose(form)
        form.locator("textarea[name=description]").fill("Laika pārbaude")
        page.get_by_test_id("send-app-report").first.click()
        live_item = page.get_by_test_id("outbox-received").locator("li").first
        live_item.locator("a").wait_for()
        written = live_item.inner_text()
        href = live_item.locator("a").get_attribute("href")
        assert re.search(r"— \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} — ", written), written
        # The correction list offers it at once.
        assert form.locator("select[name=corrects_case_id] option").count() == 2
        page.reload()
        server_item = page.get_by_test_id("outbox-received").locator("li").first
        assert server_item.inner_text() == written
        assert server_item.locator("a").get_attribute("href") == href
    finally:
        context.close()


def test_an_ended_session_keeps_entries_and_asks_to_sign_in_and_ended_rights_say_so(
        live_server, browser):
    """The session ended elsewhere (as when an accreditation is revoked): the app's requests
    get a JSON 401, the entry stays waiting and the page asks to sign in again. Rights that
    ended (403 observer_rights_ended on the key) mark what waits as not accepted, with the
    server's sentence, to be removed."""
    from portal.accounts.models import User
    from portal.accounts.services import sign_out_everywhere

    live = live_server
    observer = add_official(live, "observer", "0023000")
    context, page = _phone(browser, live, observer.email)
    try:
        in_live_app(live, lambda session, clock: sign_out_everywhere(
            session, clock, session.get(User, observer.user_id)))
        answers = []
        page.on("response", lambda r: answers.append((r.url, r.status))
                if "/observe/api/" in r.url else None)
        form = page.locator("form.report-form").first
        _choose(form)
        form.locator("textarea[name=description]").fill("Pēc sesijas beigām")
        page.get_by_test_id("send-app-report").first.click()
        expect_text(page, "connection",
                    "Piesakieties vēlreiz, lai nosūtītu to, kas gaida šajā tālrunī.")
        expect_text(page, "waiting-count", "1")
        assert (f"{live.url}/observe/api/key", 401) in answers
        assert page.locator("#outbox-waiting li.refused").count() == 0
        sentence = "Jūsu novērotāja tiesības ir beigušās. Nekas netika saņemts."
        context.route("**/observe/api/key", lambda route: route.fulfill(
            status=403, content_type="application/json",
            body=json.dumps({"error": sentence, "code": "observer_rights_ended"})))
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.locator("#outbox-waiting li.refused", has_text=sentence).wait_for()
        assert "Pēc sesijas beigām" in page.get_by_test_id("outbox-waiting").inner_text()
    finally:
        context.close()


OUTBOX_ENTRIES = """() => new Promise(resolve => {
    const req = indexedDB.open("observer-outbox", 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("keys");
      req.result.createObjectStore("outbox", { keyPath: "key" });
    };
    req.onsuccess = () => {
      const all = req.result.transaction("outbox").objectStore("outbox").getAll();
      all.onsuccess = () => { req.result.close(); resolve(all.result.length); };
    };
  })"""


def _sign_in_again(page, live, email):
    """A new sign-in (the next TOTP step: the one just used is not accepted twice)."""
    from datetime import UTC, datetime, timedelta

    sign_in_official(page, live, email, at=datetime.now(UTC) + timedelta(seconds=30))


def test_an_entry_filled_before_a_new_sign_in_is_sent_only_when_the_observer_sends_it(
        live_server, browser):
    """Filled offline while the session ended (expired, or someone else holding the phone): after
    the next sign-in it is not sent by itself but listed, with its content, to check and send or
    delete; "Nosūtīt" sends it once. An entry of the new session is sent as before."""
    from portal.accounts.models import User
    from portal.accounts.services import sign_out_everywhere

    live = live_server
    observer = add_official(live, "observer", "0023000")
    context, page = _phone(browser, live, observer.email)
    try:
        _app_ready_offline(page)
        context.set_offline(True)
        page.wait_for_function("!navigator.onLine")
        form = page.locator("form.report-form").first
        _choose(form)
        form.locator("textarea[name=description]").fill("Aizpildīts pirms jaunas pieteikšanās")
        page.get_by_test_id("send-app-report").first.click()
        expect_text(page, "waiting-count", "1")
        # The session ends on the server meanwhile; the observer signs in again.
        in_live_app(live, lambda session, clock: sign_out_everywhere(
            session, clock, session.get(User, observer.user_id)))
        context.set_offline(False)
        _sign_in_again(page, live, observer.email)
        page.goto(f"{live.url}/observe/")
        page.wait_for_selector("#observer-app[data-ready=yes]", state="attached")
        expect_text(page, "held-count", "1")
        expect_text(page, "waiting-count", "0")
        page.wait_for_timeout(1000)
        assert _submissions(live, observer.user_id) == 0
        held = page.get_by_test_id("outbox-held")
        assert page.get_by_role("heading", name=re.compile(
            "Aizpildīts šajā tālrunī pirms atkārtotas pieteikšanās — pārbaudiet un nosūtiet"
        )).is_visible()
        # The held entry's content and buttons follow its row, once the phone has opened it.
        expect(held).to_contain_text("Aizpildīts pirms jaunas pieteikšanās")
        expect(held.get_by_role("button", name="Dzēst no tālruņa")).to_have_count(1)
        # Another attempt to send leaves it held.
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(1000)
        assert _submissions(live, observer.user_id) == 0
        held.get_by_role("button", name="Nosūtīt").click()
        expect_text(page, "held-count", "0")
        page.get_by_test_id("outbox-received").locator("li a").first.wait_for()
        assert not page.locator("#outbox-held-section").is_visible()
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_timeout(1000)
        assert _submissions(live, observer.user_id) == 1
        # Filled in this session: sent by itself, as before.
        _choose(form)
        form.locator("textarea[name=description]").fill("Šīs sesijas ziņojums")
        page.get_by_test_id("send-app-report").first.click()
        expect_text(page, "waiting-count", "0")
        page.wait_for_function(
            "() => document.querySelectorAll('#outbox-received li a').length === 2")
        assert _submissions(live, observer.user_id) == 2
        assert check_a11y(page) == []
    finally:
        context.close()


def test_after_signing_out_in_one_tab_another_tab_seals_nothing(live_server, browser):
    """Two tabs of the app; signed out in one: the other's forms say to sign in again, sending is
    disabled, and nothing is kept on the phone to be sent after the next sign-in."""
    live = live_server
    observer = add_official(live, "observer", "0023000")
    context, first = _phone(browser, live, observer.email)
    try:
        second = context.new_page()
        second.goto(f"{live.url}/observe/")
        second.wait_for_selector("#observer-app[data-ready=yes]", state="attached")
        first.get_by_role("button", name="Iziet").click()
        first.wait_for_url(f"{live.url}/")
        context.set_offline(True)
        second.wait_for_function("!navigator.onLine")
        form = second.locator("form.report-form").first
        form.locator(".form-error", has_text="Piesakieties vēlreiz").wait_for()
        assert second.get_by_test_id("send-app-report").first.is_disabled()
        _choose(form)
        form.locator("textarea[name=description]").fill("Cita cilne pēc iziešanas")
        # Even submitted by a script, nothing is sealed.
        second.evaluate("document.querySelector('form.report-form').requestSubmit()")
        second.wait_for_timeout(500)
        assert second.evaluate(OUTBOX_ENTRIES) == 0
        expect_text(second, "waiting-count", "0")
        context.set_offline(False)
        _sign_in_again(first, live, observer.email)
        first.goto(f"{live.url}/observe/")
        first.wait_for_selector("#observer-app[data-ready=yes]", state="attached")
        first.wait_for_timeout(1000)
        expect_text(first, "waiting-count", "0")
        expect_text(first, "held-count", "0")
        assert _submissions(live, observer.user_id) == 0
    finally:
        context.close()


def expect_text(page, testid, value, timeout=10000):
    page.wait_for_function(
        "([id, v]) => document.querySelector(`[data-testid=${id}]`).textContent.trim() === v",
        arg=[testid, value], timeout=timeout)


def test_a_sign_out_the_server_refuses_clears_nothing(waiting_phone):
    """Only the redirect that follows a real sign-out clears the phone: a refused or failed
    sign-out (here a server error) leaves the session, and the phone keeps every entry."""
    live, observer, context, page = waiting_phone
    context.route("**/logout", lambda route: route.fulfill(status=500, body="error"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Iziet").click()
    expect_text(page, "connection", "Portāls jūs neizrakstīja: jūs joprojām esat "
                "pieteicies, un no tālruņa nekas netika dzēsts. Pārlādējiet lapu un mēģiniet "
                "vēlreiz.")
    assert "observer-outbox" in page.evaluate(STORED)["databases"]
    expect_text(page, "waiting-count", "1")


def test_signing_out_everywhere_asks_too(waiting_phone):
    """The account page's "sign out everywhere" clears the phone as well: it asks first when the
    observer's entries wait (static/js/signout-guard.js)."""
    live, _observer, _context, page = waiting_phone
    page.goto(f"{live.url}/account")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    with page.expect_event("dialog"):  # asked once the guard has counted what waits
        page.locator("form[action$='/logout/everywhere'] button[type=submit]").click()
    assert len(asked) == 1 and "nenosūtīti ieraksti: 1" in asked[0]
    assert "observer-outbox" in page.evaluate(STORED)["databases"]  # declined: kept
