"""axe-core over the messaging pages (thread list, thread page, new thread, edit history):
no serious or critical violations."""
from __future__ import annotations

import pytest

from tests.browser import check_a11y, sign_in_official
from tests.live_accounts import add_official, in_live_app

pytestmark = pytest.mark.browser


def _thread_with_an_edited_message(author_id):
    def work(session, clock):
        from messaging import services
        from messaging.rules import Target, TargetKind
        from portal.accounts.models import User

        author = session.get(User, author_id)
        thread = services.create_thread(session, clock, author, subject="Iecirkņa telpas",
                                        text="Vai drīkst **pārcelt** iecirkni?",
                                        targets=[Target(TargetKind.CVK)])
        session.flush()
        [message] = services.messages_of(session, thread)
        services.edit_message(session, clock, author, message.id,
                              "Vai drīkst pārcelt 3. iecirkni?")
        services.post_message(session, clock, author, thread.id,
                              "Skat. [CVK](https://www.cvk.lv)")
        return thread.id, message.id

    return work


def test_messaging_pages_are_accessible(page, live_server):
    chair = add_official(live_server, "commission_chair", "0023000")
    thread_id, message_id = in_live_app(live_server, _thread_with_an_edited_message(
        chair.user_id))
    sign_in_official(page, live_server, chair.email)
    for path in ("/messages/", "/messages/new", f"/messages/{thread_id}",
                 f"/messages/{thread_id}/m/{message_id}/history",
                 "/messages/search?q=iecirkni"):
        page.goto(live_server.url + path)
        assert check_a11y(page) == [], path
    page.goto(f"{live_server.url}/messages/{thread_id}")
    assert page.get_by_role("heading", name="Iecirkņa telpas").is_visible()
    assert page.get_by_test_id("history-link").is_visible()
    assert check_a11y(page, impacts=("minor", "moderate", "serious", "critical")) == []
    assert page.console_errors == []
