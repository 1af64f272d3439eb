"""In the browser: an observer files a report with a photo on a phone, the Ādaži commission
triages and resolves it, and CVK sees it on the service-level dashboard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import check_a11y, sign_in_official
from tests.case_factories import PNG
from tests.live_accounts import add_official

pytestmark = pytest.mark.browser


def test_report_from_phone_triaged_resolved_and_on_the_dashboard(live_server, phone_page,
                                                                 browser):
    live = live_server
    # 1. The observer, on a phone, files a report with a photo.
    observer = add_official(live, "observer", "0023000")  # a TOTP step of its own
    sign_in_official(phone_page, live, observer.email)
    phone_page.goto(f"{live.url}/cases/report")
    phone_page.get_by_label("Par ko ir ziņojums?").select_option("ballot_box")
    phone_page.get_by_label("Cik nopietni tas ir?").select_option("high")
    phone_page.get_by_label("Ko jūs redzējāt?").fill("Urnai nav plombes 1. iecirknī")
    file_input = phone_page.locator('input[type="file"][capture="environment"]')
    file_input.set_input_files([{"name": "urna.png", "mimeType": "image/png", "buffer": PNG}])
    assert check_a11y(phone_page) == []
    send = phone_page.get_by_test_id("send-report")
    box = send.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390
    send.click()
    phone_page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = phone_page.url
    assert phone_page.get_by_test_id("case-state").inner_text() == "Iesniegta"
    assert phone_page.locator("ul.photos img").count() == 1

    # 2. The Ādaži commission chair triages and resolves it.
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    page = context.new_page()
    try:
        sign_in_official(page, live, "chair.adazi@demo.cvk.lv")
        page.goto(case_url)
        assert page.locator("svg.workflow .wf-current").count() == 1
        page.get_by_test_id("do-triage").click()
        expect(page.get_by_test_id("case-state")).to_have_text("Izvērtēta")
        resolve_form = page.locator("form.action-card", has=page.get_by_test_id("do-resolve"))
        resolve_form.locator("textarea").fill("Urna aizzīmogota, komisija informēta")
        page.get_by_test_id("do-resolve").click()
        expect(page.get_by_test_id("case-state")).to_have_text("Atrisināta")
        # The state is near the page's top: the timeline below may not be parsed yet.
        expect(page.get_by_test_id("timeline").locator("li").nth(4)).to_be_attached()
    finally:
        context.close()

    # 3. CVK sees it on the dashboard, and the chart leads to the case.
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    page = context.new_page()
    try:
        sign_in_official(page, live, "officer@demo.cvk.lv")
        page.goto(f"{live.url}/cases/dashboard")
        assert int(page.get_by_test_id("closed-count").inner_text()) >= 1
        chart = page.get_by_test_id("chart-fulfil-type")
        assert "Novērotāja ziņojums" in chart.text_content()
        chart.locator("a").first.click()
        # The click returns once the list's address is committed, not once its rows are parsed.
        page.wait_for_url(re.compile(r"/cases\?type=observer_report&status=closed"))
        expect(page.get_by_test_id("case-list").get_by_text("Urnai nav plombes").first
               ).to_be_visible()
    finally:
        context.close()
