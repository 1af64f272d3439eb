"""Two browsers (Playwright, Debian Chromium) in one thread see each other's messages live,
without reloading. The portal runs in its own process (Socket.IO server, threading mode)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portal.messages import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_two_browsers_see_each_others_messages_live(browser, tmp_path, gnupg_home):
    db_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app, ids = live_server.prepare(db_url, gnupg_home)
    port = live_server.free_port()
    env = live_server.environment(db_url, gnupg_home, tmp_path / "instance")
    process = live_server.start(port, env, tmp_path / "portal.log")
    try:
        url = f"http://127.0.0.1:{port}/messages/{ids['thread']}"
        member_ctx, member, member_errors = live_server.open_page(browser, app, "member", url)
        officer_ctx, officer, officer_errors = live_server.open_page(browser, app, "officer", url)

        member.get_by_label("Jūsu ziņa").fill("Sveiki no komisijas")
        officer.wait_for_selector("#typing:has-text('Mārtiņš Egle')")
        member.get_by_test_id("send").click()
        officer.locator("#thread").get_by_text("Sveiki no komisijas").wait_for()

        officer.get_by_label("Jūsu ziņa").fill("Atbilde no **CVK**")
        officer.get_by_test_id("send").click()
        member.locator("#thread strong", has_text="CVK").wait_for()
        # The sender's own page shows the reply when its live fetch returns, which can come
        # after the other page's, so wait for it before counting.
        officer.locator("#thread strong", has_text="CVK").wait_for()
        # Neither page was reloaded: the first message is still the only "Sākums". Each
        # message comes in its own fetch, so the member's own may still be on its way.
        expect(member.locator("#thread .message")).to_have_count(3)
        expect(officer.locator("#thread .message")).to_have_count(3)
        # A refusal is shown in the page without a reload.
        member.get_by_label("Jūsu ziņa").fill("<script>alert(1)</script>")
        member.get_by_test_id("send").click()
        member.locator("#compose-error").get_by_text("skripts").wait_for()
        assert member.locator("#thread .message").count() == 3
        assert member_errors == [] or all("400" in e for e in member_errors)
        assert officer_errors == []
        member_ctx.close()
        officer_ctx.close()
    finally:
        live_server.stop(process)
