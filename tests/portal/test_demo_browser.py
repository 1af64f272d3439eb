"""A newcomer on the living demo in Chromium: whatever the real day, the demo clock shows this
week's online-voting Tuesday (Art. 15(1)); the demo voter signs the initiative, casts an
encrypted ballot and finds its tracker on the public bulletin board."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from referendum_core.clock import demo_clock
from tests.browser import LiveServer, require_chromium, sign_in_voter

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    require_chromium()
    from portal.seed_story import seed_story
    from tests.browser import start_live_server

    tmp = tmp_path_factory.mktemp("demo-live")
    server = start_live_server(tmp, clock=demo_clock("auto"), DEMO_CLOCK="auto")
    live = next(server)
    app = live.app
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        story = seed_story(session, app.extensions["clock"], app.extensions["calendar"],
                           app.extensions["keys"], tmp)
        session.commit()
        session.close()
    try:
        yield live, story
    finally:
        with contextlib.suppress(StopIteration):
            next(server)


def test_the_demo_voter_signs_votes_and_finds_the_tracker(browser, demo):
    live, story = demo
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    context.set_default_timeout(30000)
    page = context.new_page()
    try:
        sign_in_voter(page, live, "161175-19997")
        assert "otrdiena" in page.get_by_test_id("demo-banner").inner_text()
        page.goto(f"{live.url}/initiatives/{story['initiative']}")
        page.get_by_role("button", name="Parakstīt šo iniciatīvu").click()
        page.get_by_test_id("own-signature").wait_for()
        page.goto(f"{live.url}/voting/{story['referendum']}")
        page.get_by_text("Gatavs.").wait_for()
        page.get_by_label("Par").check()
        page.get_by_role("button", name="Šifrēt un nodot manu balsi").click()
        page.get_by_test_id("receipt").wait_for()
        page.wait_for_load_state()  # the receipt shows first; its tracker comes after
        tracker = page.get_by_test_id("receipt-tracker").inner_text().strip()
        page.goto(f"{live.url}/voting/{story['referendum']}/board?tracker={tracker}")
        assert tracker in page.content()
    finally:
        context.close()
