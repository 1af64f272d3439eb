"""Browser journeys in headless Chromium: sign-in with 2FA, role-aware navigation, language
switch, voter sign-in, keyboard use, and axe-core with no serious or critical violations."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import check_a11y, sign_in_official, submit

pytestmark = pytest.mark.browser


def test_public_pages_are_accessible(page, live_server):
    for path in ("/", "/login", "/voter/login"):
        page.goto(live_server.url + path)
        assert check_a11y(page) == [], path
    assert page.console_errors == []  # no CSP violations, no missing resources
    page.goto(live_server.url + "/no-such-page")
    assert check_a11y(page) == []


def test_skip_link_is_first_in_tab_order(page, live_server):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Pāriet uz saturu"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


def test_cvk_admin_signs_in_with_2fa_and_sees_admin_navigation(page, live_server):
    sign_in_official(page, live_server, "admin@demo.cvk.lv")
    nav = page.get_by_role("navigation", name="Galvenā navigācija")
    assert nav.get_by_role("link", name="Audita žurnāls").is_visible()
    assert nav.get_by_role("link", name="Personas un lomas").is_visible()
    assert page.get_by_test_id("roles").inner_text().strip().startswith("CVK administrators")
    assert check_a11y(page) == []
    nav.get_by_role("link", name="Audita žurnāls").click()
    page.wait_for_url(re.compile(r"/audit/$"))
    expect(page.get_by_role("heading", name="Audita žurnāls")).to_be_visible()
    assert "pieteicās." in page.content()  # the sign-in, as a sentence (not its code)
    assert "login.success" not in page.content()
    assert check_a11y(page) == []
    page.get_by_role("button", name="Pārbaudīt ķēdi").click()
    assert "Nekas nav mainīts" in page.get_by_test_id("chain-result").inner_text()
    page.get_by_role("navigation", name="Galvenā navigācija").get_by_role(
        "link", name="Personas un lomas").click()
    page.wait_for_url(re.compile(r"/admin/users$"))
    assert check_a11y(page) == []
    page.get_by_role("link", name="Līga Liepa").click()
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    assert check_a11y(page) == []


def test_commission_member_sees_only_their_navigation_and_is_refused_audit(page, live_server):
    sign_in_official(page, live_server, "member.adazi@demo.cvk.lv")
    nav = page.get_by_role("navigation", name="Galvenā navigācija")
    assert nav.get_by_role("link", name="Audita žurnāls").count() == 0
    assert "Ādažu novada vēlēšanu komisija" in page.get_by_test_id("roles").inner_text()
    response = page.goto(live_server.url + "/audit/")
    assert response.status == 403
    assert page.get_by_role("heading", name="Jums nav piekļuves šai lapai.").is_visible()
    assert check_a11y(page) == []


def test_language_switch_to_english_and_back(page, live_server):
    page.goto(live_server.url + "/login")
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url.endswith("/login")
    assert check_a11y(page) == []
    page.get_by_test_id("lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "lv")


def test_wrong_totp_shows_a_clear_message(page, live_server):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("E-pasta adrese").fill("officer@demo.cvk.lv")
    page.get_by_label("Parole").fill(live_server.demo_password)
    submit(page, "Turpināt")
    page.get_by_label("Kods no autentifikācijas lietotnes vai rezerves kods").fill("000000")
    submit(page, "Pieteikties", last=True)
    assert page.get_by_role("alert").inner_text().startswith("Kods ir nepareizs")
    assert check_a11y(page) == []


def test_voter_signs_in_with_one_time_code(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Pieteikties kā vēlētājam").click()
    page.get_by_label("Personas kods").fill("328673-00679")
    submit(page, "Sūtīt man kodu")
    notice = page.get_by_role("status").inner_text()
    code = "".join(ch for ch in notice.split("ir", 1)[1] if ch.isdigit())[:6]
    page.get_by_label("Saņemtais kods").fill(code)
    page.get_by_role("button", name="Pieteikties").last.click()
    expect(page.get_by_role("heading", name="Sveicināti, Jānis Kalniņš")).to_be_visible()
    assert check_a11y(page) == []


def test_phone_layout_keeps_login_usable(phone_page, live_server):
    phone_page.goto(live_server.url + "/login")
    box = phone_page.get_by_role("button", name="Turpināt").bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert check_a11y(phone_page) == []
