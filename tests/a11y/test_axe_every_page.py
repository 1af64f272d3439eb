"""axe-core over every page type for every role: anonymous, voter, observer, commission member,
commission chair, CVK officer and CVK admin (and a trustee on the trustee page), through the
referendum's stages (online week, polling day, counting, results). No serious or critical
violations anywhere; refusals (403, 404) and the sign-in redirects are pages too.

Then keyboard-only use of the main journeys' key controls: Tab reaches them in order, the
focused control shows a visible focus indicator, Enter or Space activates it.

One live server for the module (``tests.tour``); each role signs in once and keeps its browser
context.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import check_a11y
from tests.tour import (
    AFTER_CLOSE,
    ONLINE,
    POLLING_DAY,
    Tour,
    cast_online,
    close_and_tally,
    new_context,
    protocols_and_approve,
    publish_initiatives,
    start_tour,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROLES = ("anonymous", "voter", "observer", "commission_member", "commission_chair",
         "cvk_officer", "cvk_admin")

# Every page type, with the seeded objects' ids filled in.
PAGES = (
    "/", "/login", "/voter/login", "/account", "/account/recovery-codes",
    "/messages/", "/messages/new", "/messages/{thread}", "/messages/search?q=telpas",
    "/cases", "/cases?status=open&sort=deadline", "/cases/{case}", "/cases/report",
    "/cases/complaint", "/cases/query", "/cases/dashboard", "/cases/tokens",
    "/register/import", "/register/lookup",
    "/initiatives/", "/initiatives/{initiative}", "/initiatives/{initiative_collecting}",
    "/initiatives/{initiative_collecting}/board",
    "/initiatives/new",
    "/voting/", "/voting/new", "/voting/{referendum}", "/voting/{referendum}/board",
    "/voting/{referendum}/station", "/voting/{referendum}/trustee",
    "/voting/{referendum}/protocols", "/voting/{referendum}/manage",
    "/voting/{referendum}/results", "/voting/{referendum}/home-voting",
    "/voting/{referendum}/home-voting/requests",
    "/observers/stations", "/observers/referendums/{referendum}/accreditations",
    "/observers/referendums/{referendum}/nominate",
    "/audit/", "/admin/users", "/admin/users/{user}",
    "/no-such-page",
)
IMPACTS = ("serious", "critical")
VOTING_PAGES = tuple(p for p in PAGES if p.startswith("/voting/{referendum}")) + ("/voting/",)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    yield from start_tour(tmp_path_factory.mktemp("a11y"))


@pytest.fixture(scope="module")
def browser_instance(browser: Any) -> Any:
    """The session's Chromium (one sync Playwright per process: tests/conftest.py)."""
    return browser


@pytest.fixture(scope="module")
def pages(tour: Tour, browser_instance: Any) -> Iterator[dict[str, Any]]:
    """One signed-in page per role (plus a trustee), signed in once in the online week; the
    sign-in pages themselves are checked on the way."""
    tour.clock.set(ONLINE)
    publish_initiatives(tour)
    found: dict[str, list] = {}
    contexts, result = [], {}
    for role in (*ROLES, "trustee1"):
        context = new_context(browser_instance)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg, p=page: p.console_errors.append(msg.text)
                if msg.type == "error" else None)

        def at_step(step: str, page: Any = page, role: str = role) -> None:
            found[f"{role} {step}"] = check_a11y(page)

        if role == "voter":
            tour.sign_in_voter(page, 0, screenshots=at_step)
        elif role != "anonymous":
            tour.sign_in(page, role, screenshots=at_step)
        result[role] = page
    assert {k: v for k, v in found.items() if v} == {}
    yield result
    for context in contexts:
        context.close()


def _paths(tour: Tour, templates: tuple[str, ...]) -> list[str]:
    ids = {**tour.ids, "user": _user_id(tour, "commission_member")}
    return [template.format(**ids) for template in templates]


def _user_id(tour: Tour, role: str) -> int:
    return tour.work(lambda s, c, k: tour.user(s, role).id)


def _sweep(tour: Tour, pages: dict[str, Any], templates: tuple[str, ...],
           roles: tuple[str, ...] = ROLES) -> dict[str, Any]:
    """Visit every page as every role; axe each distinct page (a refusal or a redirect to the
    same place is checked once per role). Returns what was wrong, keyed "role path"."""
    problems: dict[str, Any] = {}
    for role in roles:
        page = pages[role]
        seen_refusals: set[tuple[int, str]] = set()
        for path in _paths(tour, templates):
            response = page.goto(tour.url + path)
            status = response.status if response else 0
            if status >= 500:
                problems[f"{role} {path}"] = f"HTTP {status}"
                continue
            if "/voting/" in path and page.get_by_text("Gatavs.").count():
                page.get_by_text("Gatavs.").wait_for()
            final = page.url.split("?")[0].removeprefix(tour.url)
            if status != 200 or final != path.split("?")[0]:
                # A refusal looks the same whatever was refused; a redirect, like its target.
                key = (status, "" if status != 200 else final)
                if key in seen_refusals:
                    continue
                seen_refusals.add(key)
            violations = check_a11y(page, impacts=IMPACTS)
            if violations:
                problems[f"{role} {path}"] = violations
        errors = [e for e in page.console_errors if "status of 4" not in e]
        if errors:
            problems[f"{role} console"] = errors
        page.console_errors.clear()
    return problems


def test_axe_finds_a_planted_violation(tour, pages):
    """The checker itself works: an unlabelled field and an image without text are caught."""
    page = pages["anonymous"]
    page.goto(tour.url + "/")
    page.evaluate("""() => { const m = document.querySelector('main');
        m.appendChild(document.createElement('input'));
        const img = document.createElement('img'); img.src = '/static/favicon.svg';
        m.appendChild(img); }""")
    found = {v["id"] for v in check_a11y(page, impacts=("serious", "critical"))}
    assert {"label", "image-alt"} <= found, found
    # Text outside every landmark is a moderate violation: found when asked for, and only then
    # (check_a11y runs only the rules that can report the impacts asked for).
    page.evaluate("() => document.body.appendChild(document.createElement('p')).textContent"
                  " = 'Ārpus orientieriem'")
    assert "region" not in {v["id"] for v in check_a11y(page)}
    everything = check_a11y(page, impacts=("minor", "moderate", "serious", "critical"))
    assert {"label", "image-alt", "region"} <= {v["id"] for v in everything}, everything


def test_every_page_in_the_online_week(tour, pages):
    assert _sweep(tour, pages, PAGES) == {}


def test_the_ballot_and_receipt_with_the_keyboard_only(tour, pages):
    page = pages["voter"]
    page.goto(f"{tour.url}/voting/{tour.ids['referendum']}")
    page.get_by_text("Gatavs.").wait_for()
    _tab_to(page, "input[type=radio]")
    page.keyboard.press("Space")  # the first option, "Par"
    assert page.get_by_label("Par").is_checked()
    _tab_to(page, "#cast-button")
    page.keyboard.press("Enter")
    page.get_by_test_id("receipt").wait_for()
    assert check_a11y(page) == []


def test_official_sign_in_with_the_keyboard_only(tour, browser_instance):
    import pyotp

    context = new_context(browser_instance)
    page = context.new_page()
    try:
        tour.clock.advance(timedelta(seconds=31))
        page.goto(f"{tour.url}/")
        page.keyboard.press("Tab")  # the first stop is the skip link; it jumps to the content
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        expect(page.locator("#main")).to_be_focused()
        page.goto(f"{tour.url}/login")
        _tab_to(page, "input[type=email], input[name=email]")
        page.keyboard.type(tour.email("cvk_officer"))
        _tab_to(page, "input[type=password]")
        page.keyboard.type(tour.live.demo_password)
        _tab_to(page, "form:not(.inline) button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/login/2fa**")
        code = pyotp.TOTP(tour.live.totp_secrets[tour.email("cvk_officer")]).at(tour.clock.now())
        _tab_to(page, "input[name=code]")
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login" not in url)
    finally:
        context.close()


def test_observer_report_with_the_keyboard_only(tour, pages):
    page = pages["observer"]
    page.goto(f"{tour.url}/cases/report")
    _tab_to(page, "select[name=polling_station_id]")
    page.keyboard.press("ArrowDown")
    # Category and severity start empty and are required: choose each with the keyboard.
    _tab_to(page, "select[name=category]")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "select[name=severity]")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "textarea[name=description]")
    page.keyboard.type("Rindā stāv vairāk nekā 30 cilvēku.")
    _tab_to(page, "[data-testid=send-report]")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/cases/report" not in url)
    assert check_a11y(page) == []


def test_new_message_with_the_keyboard_only(tour, pages):
    page = pages["commission_member"]
    page.goto(f"{tour.url}/messages/new")
    _tab_to(page, "input[name=subject]")
    page.keyboard.type("Vēlēšanu zīmes")
    _tab_to(page, "textarea")
    page.keyboard.type("Vai zīmes jau ir nosūtītas?")
    _tab_to(page, "form[enctype] button[type=submit], main form button[type=submit]")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"


def test_voting_pages_on_polling_day(tour, pages):
    cast_online(tour, 1, [0, 1])
    tour.clock.set(POLLING_DAY)
    assert _sweep(tour, pages, VOTING_PAGES, ROLES + ("trustee1",)) == {}


def test_station_marking_with_the_keyboard_only(tour, pages):
    from tests.tour import VOTER_CODES

    page = pages["commission_member"]
    page.goto(f"{tour.url}/voting/{tour.ids['referendum']}/station")
    _tab_to(page, "select")
    page.keyboard.press("ArrowDown")
    _tab_to(page, "input[name=personal_code]")
    page.keyboard.type(VOTER_CODES[3])
    _tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():  # the result is on the page the form's post answers
        page.keyboard.press("Enter")
    page.get_by_test_id("station-result").wait_for()
    assert check_a11y(page) == []


def test_counting_and_results_pages(tour, pages):
    tour.clock.set(AFTER_CLOSE)
    close_and_tally(tour)
    assert _sweep(tour, pages, VOTING_PAGES, ("commission_member", "commission_chair",
                                              "trustee1")) == {}
    protocols_and_approve(tour)
    assert _sweep(tour, pages, VOTING_PAGES, ROLES + ("trustee1",)) == {}


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has focus (fail after ``limit``
    presses); the focused control must show a visible focus indicator."""
    for _ in range(limit):
        if page.evaluate("s => { const a = document.activeElement;"
                         " return !!a && a.matches(s); }", selector):
            style = page.evaluate(
                "() => { const c = getComputedStyle(document.activeElement);"
                " return [c.outlineStyle, c.outlineWidth, c.boxShadow]; }")
            outline, width, shadow = style
            assert (outline != "none" and width != "0px") or shadow != "none", (selector, style)
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {selector} on {page.url}")
