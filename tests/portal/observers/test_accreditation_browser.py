"""In Chromium: the initiator names two observers for a polling station and the third is
refused with a clear message naming the law (Art. 18(3)); the pages pass axe-core."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from referendum_core.clock import FixedClock
from tests.browser import LiveServer, check_a11y, require_chromium, submit

pytestmark = [pytest.mark.browser]

ATVK = "0055000"  # Varakļānu novads: not the demo's municipality


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory,
         clock: FixedClock) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    """A live portal with a referendum being set up whose initiative the first voter filed."""
    require_chromium()
    from referendum_core.initiatives import initiative_of_referendum
    from tests.browser import start_live_server
    from tests.voting_support import build_scenario

    server = start_live_server(tmp_path_factory.mktemp("observers-live"), clock=clock)
    live = next(server)
    app = live.app
    session = app.extensions["portal_db"].new_session()
    s = build_scenario(session, clock, app.extensions["keys"], atvk=ATVK, open_now=False,
                       prefix="obs-", station_number=871)
    initiative_of_referendum(session, s.referendum.case_id).applicant_id = s.voters[0].id
    session.commit()
    facts = {"referendum": s.referendum.id, "code": s.codes[0],
             "station": f"{s.station.number}. {s.station.name}"}
    session.close()
    yield live, facts
    next(server, None)


def _name(page: Any, live: LiveServer, facts: dict[str, Any], name: str, email: str) -> None:
    page.goto(f"{live.url}/observers/referendums/{facts['referendum']}/nominate")
    page.get_by_label("Vēlēšanu iecirknis").select_option(label=facts["station"])
    page.get_by_label("Novērotāja vārds un uzvārds").fill(name)
    page.get_by_label("Novērotāja e-pasta adrese").fill(email)
    submit(page, "Nosūtīt komisijai")


def test_art18_3_third_observer_is_refused_with_a_clear_message_in_the_browser(
        browser: Any, live: tuple[LiveServer, dict[str, Any]]) -> None:
    from tests.browser import sign_in_voter

    server, facts = live
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    context.set_default_timeout(30000)
    page = context.new_page()
    try:
        sign_in_voter(page, server, facts["code"])
        _name(page, server, facts, "Anna Bērziņa", "anna@example.lv")
        _name(page, server, facts, "Jānis Ozols", "janis@example.lv")
        table = page.get_by_test_id("own-observers").inner_text()
        assert "Anna Bērziņa" in table and "Jānis Ozols" in table
        _name(page, server, facts, "Pēteris Kalniņš", "peteris@example.lv")
        alert = page.locator(".flash-error").first.inner_text()
        assert "ne vairāk kā divus novērotājus" in alert and "18. panta trešā daļa" in alert
        assert "Pēteris Kalniņš" not in page.get_by_test_id("own-observers").inner_text()
        assert check_a11y(page) == []
    finally:
        context.close()
