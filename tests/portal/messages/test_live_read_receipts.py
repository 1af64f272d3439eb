"""Read receipts live: "Read by" on an open thread page updates when the other participant's
page reads the thread, without reloading. The portal runs in its own process (Socket.IO)."""
from __future__ import annotations

import pytest

from tests.portal.messages import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_read_by_updates_live_when_the_other_page_reads(browser, tmp_path, gnupg_home):
    db_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app, ids = live_server.prepare(db_url, gnupg_home)
    port = live_server.free_port()
    env = live_server.environment(db_url, gnupg_home, tmp_path / "instance")
    process = live_server.start(port, env, tmp_path / "portal.log")
    try:
        url = f"http://127.0.0.1:{port}/messages/{ids['thread']}"
        member_ctx, member, member_errors = live_server.open_page(browser, app, "member", url)
        member.evaluate("window.__notReloaded = true")
        read_by = member.get_by_test_id("read-by")
        assert "Pēteris Ozols" not in read_by.inner_text()
        # The officer opens the thread (reading it): the member's page says so, live.
        officer_ctx, officer, officer_errors = live_server.open_page(browser, app, "officer", url)
        member.wait_for_selector("#read-by:has-text('Izlasījuši: Pēteris Ozols')")
        # A new message by the member is unread at first, then read by the officer's open page.
        member.get_by_label("Jūsu ziņa").fill("Vai saņēmāt protokolu?")
        member.get_by_test_id("send").click()
        officer.locator("#thread").get_by_text("Vai saņēmāt protokolu?").wait_for()
        member.locator("#thread").get_by_text("Vai saņēmāt protokolu?").wait_for()
        newest = member.locator("#thread .message").last.get_attribute("data-message-id")
        member.wait_for_selector(
            f"#read-by[data-message-id='{newest}']:has-text('Izlasījuši: Pēteris Ozols')")
        assert member.locator("#thread .message").count() == 2
        assert member.evaluate("window.__notReloaded") is True
        assert member_errors == [] and officer_errors == []
        member_ctx.close()
        officer_ctx.close()
    finally:
        live_server.stop(process)
