"""The user guide's pictures of the living demo (``portal.seed_story``): messages between a
commission and CVK, the voter look-up, home voting (the voter's request and the commission's
list), a complaint, starting an initiative and the observer's case list on a phone. Written to
``docs/guide/img/`` with ``make guide`` (``GUIDE_SCREENSHOTS=write``), else to a temporary
folder; desktop shots 1280×800, phone shots 390×844, the viewport only."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.seed import DEMO_VOTERS
from tests.browser import submit
from tests.living_demo import sign_in, start_story_server
from tests.tour import new_context

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

IMG = Path(__file__).resolve().parents[2] / "docs" / "guide" / "img"
# The pictures this module takes (test_guide_screenshots checks the rest of the folder).
PICTURES = frozenset({
    "member-messages-cvk", "member-voter-lookup", "voter-home-voting",
    "member-home-voting-requests", "voter-complaint", "voter-initiative-new",
    "observer-case-list"})
WRITE = os.environ.get("GUIDE_SCREENSHOTS") == "write"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = IMG if WRITE else tmp_path_factory.mktemp("guide-demo-img")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    yield from start_story_server(tmp_path_factory.mktemp("guide-demo"))


def shot(page: Any, name: str, out: Path, focus: Any = None) -> None:
    """Save the viewport as ``<out>/<name>.png`` (``focus`` scrolled into view), in 256
    colours: plenty for screens of text, about half the bytes."""
    if focus is not None:
        focus.scroll_into_view_if_needed()
    assert name in PICTURES, name
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, scale="css", animations="disabled",
                    caret="hide")
    if WRITE:  # a plain run checks which pictures the journeys take, not their palette
        _shrink(path)


def _shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)


def _person(browser: Any, demo: tuple, who: str, phone: bool = False) -> Any:
    live, real, _story = demo
    page = new_context(browser, phone=phone).new_page()
    sign_in(page, live, real, who)
    return page


def test_a_commission_and_cvk_write_to_each_other(demo, browser, out):
    page = _person(browser, demo, "chair")
    try:
        page.goto(demo[0].url + "/messages/")
        page.get_by_role("link", name="Vēlēšanu zīmju piegāde").click()
        page.wait_for_url(re.compile(r"/messages/\d+$"))
        page.get_by_text("Zīmes piegādāsim ceturtdien").wait_for()
        shot(page, "member-messages-cvk", out)
    finally:
        page.context.close()


def test_a_member_looks_a_voter_up(demo, browser, out):
    page = _person(browser, demo, "member")
    try:
        page.goto(demo[0].url + "/register/lookup")
        page.get_by_label("Personas kods").fill(DEMO_VOTERS[1][0])
        submit(page, "Meklēt")
        shot(page, "member-voter-lookup", out)
    finally:
        page.context.close()


def test_home_voting_the_voters_request_and_the_commissions_list(demo, browser, out):
    live, _real, story = demo
    page = _person(browser, demo, "voter", phone=True)
    try:
        page.goto(f"{live.url}/voting/{story['referendum']}/home-voting")
        page.get_by_label("Adrese, uz kuru komisija nogādās vēlēšanu zīmi").fill(
            "Gaujas iela 5-12, Ādaži")
        page.get_by_label("Kāpēc nevarat ierasties vēlēšanu iecirknī").fill(
            "Pēc operācijas nevaru paiet.")
        shot(page, "voter-home-voting", out, page.get_by_role("button", name="Nosūtīt pieteikumu"))
        submit(page, "Nosūtīt pieteikumu")  # sent before the page is closed
    finally:
        page.context.close()
    page = _person(browser, demo, "member")
    try:
        page.goto(f"{live.url}/voting/{story['referendum']}/home-voting/requests")
        page.get_by_text("Gaujas iela 5-12").first.wait_for()
        shot(page, "member-home-voting-requests", out)
    finally:
        page.context.close()


def test_a_voter_files_a_complaint_and_starts_an_initiative(demo, browser, out):
    page = _person(browser, demo, "voter", phone=True)
    try:
        page.goto(demo[0].url + "/cases/complaint")
        shot(page, "voter-complaint", out)
        page.goto(demo[0].url + "/initiatives/new")
        shot(page, "voter-initiative-new", out)
    finally:
        page.context.close()


def test_the_observers_case_list_on_a_phone(demo, browser, out):
    page = _person(browser, demo, "observer", phone=True)
    try:
        page.goto(demo[0].url + "/cases")
        shot(page, "observer-case-list", out)
    finally:
        page.context.close()
