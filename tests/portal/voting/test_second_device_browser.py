"""Cast as intended on a second device, in Chromium: the voting device casts and its receipt
shows a QR code and a short link; a "phone" (another browser context, signed in as no one)
opens the link and sees the same choice and that it counts; after a re-vote it sees the first
ballot as replaced; a board entry tampered with shows an error, never a choice. The
randomness never reaches the server (it travels in the URL fragment only)."""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from referendum_core.clock import FixedClock
from tests.browser import Actors, LiveServer, check_a11y, require_chromium
from tests.voting_support import ONLINE_MONDAY, build_scenario

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock
          ) -> Iterator[tuple[LiveServer, Any]]:
    """A live portal with a referendum open for online voting (Monday of the online week)."""
    require_chromium()
    from tests.browser import start_live_server

    server = start_live_server(tmp_path_factory.mktemp("second-device"), clock=clock)
    live = next(server)
    app = live.app
    with app.app_context():
        session = app.extensions["portal_db"].new_session()
        scenario = build_scenario(session, clock, app.extensions["keys"], voters=2,
                                  station_number=961, prefix="sd-")
        session.commit()
        info = {"referendum_id": scenario.referendum.id, "codes": scenario.codes}
        session.close()
    clock.set(ONLINE_MONDAY)
    yield live, info
    with contextlib.suppress(StopIteration):
        next(server)


def _cast(page: Any, live: LiveServer, referendum_id: int, label: str) -> tuple[str, str, str]:
    """Vote on the voting device; return (tracker, the QR code's link, the short link)."""
    page.goto(f"{live.url}/voting/{referendum_id}")
    page.get_by_test_id("vote-status").filter(has_text="Gatavs").wait_for()
    page.get_by_label(label).check()
    page.get_by_role("button", name="Šifrēt un nodot manu balsi").click()
    page.get_by_test_id("receipt").wait_for()
    box = page.get_by_test_id("second-device")
    box.wait_for()
    assert "#" not in page.url  # the randomness left the address bar at once
    tracker = page.get_by_test_id("receipt-tracker").inner_text().strip()
    full = box.get_attribute("data-full-link")
    short = page.get_by_test_id("second-device-link").inner_text().strip()
    assert page.locator("#second-device-qr svg path").count() == 1
    return tracker, full, short


def _check_on_phone(phone: Any, link: str) -> dict[str, str]:
    phone.goto("about:blank")
    phone.goto(link)
    phone.locator("[data-testid=check-result]:visible, [data-testid=check-error]:visible"
                  ).first.wait_for()
    if phone.get_by_test_id("check-error").is_visible():
        return {"error": phone.get_by_test_id("check-error").inner_text()}
    return {"choice": phone.get_by_test_id("check-choice").inner_text(),
            "standing": phone.get_by_test_id("check-standing").inner_text(),
            "tracker": phone.get_by_test_id("check-tracker").inner_text()}


def test_the_phone_sees_the_choice_cast_and_a_tampered_entry_shows_an_error(
        browser: Any, world: tuple[LiveServer, Any], clock: FixedClock) -> None:
    live, info = world
    rid = info["referendum_id"]
    actors = Actors(browser, live, clock)
    requests: list[str] = []
    try:
        voting_device = actors.voter(info["codes"][0])
        tracker, full, short = _cast(voting_device, live, rid, "Par")
        assert tracker in full and tracker[:12] in short and tracker not in short
        assert full.split("#")[0] == short.split("#")[0] == f"{live.url}/voting/{rid}/check"

        phone = actors.page(phone=True)  # signed in as no one
        phone.on("request", lambda r: requests.append(r.url))
        seen = _check_on_phone(phone, full)
        assert seen == {"choice": "Par", "standing": "Ieskaitīta: šī ir jūsu pēdējā balss "
                        "internetā.", "tracker": tracker}
        assert _check_on_phone(phone, short)["choice"] == "Par"
        assert not check_a11y(phone)
        # The randomness (the fragment) was never sent: only the tracker's prefix was asked for.
        fragment = full.split("#", 1)[1]
        assert requests and not any(fragment.split(".", 1)[1] in url for url in requests)

        # A re-vote: the first ballot still opens to its choice and is shown as replaced.
        _, again, _ = _cast(voting_device, live, rid, "Pret")
        first = _check_on_phone(phone, full)
        assert first["choice"] == "Par" and first["standing"].startswith("Aizstāta")
        assert _check_on_phone(phone, again)["choice"] == "Pret"

        # The server swaps the beta of choice 0 of the voter's last ballot on the board.
        _tamper_last_entry(live, rid)
        bad = _check_on_phone(phone, again)
        assert "neatbilst" in bad["error"] and not phone.get_by_test_id("check-result").is_visible()
        assert not phone.console_errors and not voting_device.console_errors
    finally:
        actors.close()


def _tamper_last_entry(live: LiveServer, referendum_id: int) -> None:
    from referendum_core.voting.models import BoardEntry

    session = live.app.extensions["portal_db"].new_session()
    try:
        entry = session.scalars(select(BoardEntry).where(
            BoardEntry.referendum_id == referendum_id).order_by(BoardEntry.seq.desc())).first()
        ballot = json.loads(entry.ballot)
        c0, c1 = ballot["choices"]
        c0["beta"], c1["beta"] = c1["beta"], c0["beta"]
        entry.ballot = json.dumps(ballot, separators=(",", ":"))
        session.commit()
    finally:
        session.close()
