"""In Chromium: the bulletin-board page keeps every signed checkpoint it is shown or sent over
Socket.IO (browser storage, so a reload keeps them too) and downloads them as JSON that
verifies against the manifest's key."""
from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from referendum_core.clock import FixedClock
from referendum_core.crypto.checkpoint import parse_checkpoint, verify_checkpoint
from tests.browser import require_chromium, start_live_server
from tests.voting_support import CALENDAR, build_scenario

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_board_page_keeps_the_checkpoints_it_received(tmp_path_factory, browser):
    require_chromium()
    from portal import checkpoints as portal_checkpoints
    from referendum_core.voting import open_voting

    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    server = start_live_server(tmp_path_factory.mktemp("checkpoints-live"), clock=clock)
    live = next(server)
    app = live.app
    try:
        with app.app_context():
            session = app.extensions["portal_db"].new_session()
            s = build_scenario(session, clock, app.extensions["keys"], open_now=False,
                               prefix="cp", station_number=897)
            open_voting(session, clock, CALENDAR, s.chair, s.referendum,
                        checkpoint_key=portal_checkpoints.election_public_key(
                            s.referendum.election_id))
            session.commit()  # the stage change signs the empty board
            referendum_id, key = s.referendum.id, s.referendum.manifest_dict["checkpoint_key"]
            session.close()
        context = browser.new_context(locale="lv-LV", accept_downloads=True)
        context.set_default_timeout(15000)
        page = context.new_page()
        page.goto(f"{live.url}/voting/{referendum_id}/board")
        kept = page.get_by_test_id("kept-count")
        # The count in its Latvian form, as the server's plural rule picks it (js/counts.js).
        assert kept.inner_text() == "1 kontrolpunkts saglabāts šajā pārlūkā."
        page.wait_for_selector("#live[data-joined=yes]", state="attached")
        clock.advance(timedelta(minutes=2))
        with app.app_context():
            portal_checkpoints.sign_boards.delay()
        page.wait_for_function(
            "() => document.querySelector('[data-kept-count]').dataset.count === '2'")
        page.reload()
        assert page.get_by_test_id("kept-count").inner_text() == (
            "2 kontrolpunkti saglabāti šajā pārlūkā.")
        with page.expect_download() as download:
            page.get_by_role("button", name="Lejupielādēt šī pārlūka saņemtos kontrolpunktus "
                                              "(JSON)").click()
        body = json.loads(Path(download.value.path()).read_text())
        assert body["key"] == key and len(body["checkpoints"]) == 2
        for item in body["checkpoints"]:
            verify_checkpoint(parse_checkpoint(item), key)
        context.close()
    finally:
        with contextlib.suppress(StopIteration):
            next(server)
