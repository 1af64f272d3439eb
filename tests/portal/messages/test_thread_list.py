"""The thread list: unread counts per thread, and a number of SQL statements that does not grow
with the number of threads (no query per thread for counts or data keys)."""
from __future__ import annotations

from sqlalchemy import event

from messaging import services
from messaging.rules import Target, TargetKind


def _statements_for(client, engine, path):
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_thread_list_statements_do_not_grow_with_threads(app, client, login_as, db_session,
                                                         clock, people):
    member, officer = people.member(), people.cvk_officer()
    engine = db_session.get_bind().engine
    keys = app.extensions["messaging_keys"]
    login_as(officer)
    counts = {}
    for wanted in (2, 7):
        while len(services.threads_for(db_session, officer)) < wanted:
            services.create_thread(db_session, clock, member, subject=f"Jautājums {wanted}",
                                   text="Sveiki", targets=[Target(TargetKind.CVK)])
        db_session.commit()
        keys.forget()  # a cold key cache too: keys come in one query, not one per thread
        counts[wanted], html = _statements_for(client, engine, "/messages/")
        assert html.count('class="thread-row') == wanted
        assert html.count("1 nelasīta") == wanted
    assert counts[2] == counts[7], counts



def test_long_thread_shows_newest_page_with_link_to_earlier_and_constant_statements(
        app, client, login_as, db_session, clock, people):
    """Found by the soak test: a long thread decrypted and loaded every message, with queries per
    message for attachments and revisions. Now a page of the newest, loaded per page."""
    from portal.messages.views import THREAD_PAGE_SIZE

    member, officer = people.member(), people.cvk_officer()
    engine = db_session.get_bind().engine
    thread = services.create_thread(db_session, clock, member, subject="Garš pavediens",
                                    text="ziņa 0", targets=[Target(TargetKind.CVK)])
    for i in range(1, THREAD_PAGE_SIZE + 5):
        services.post_message(db_session, clock, member, thread.id, f"ziņa {i}")
    db_session.commit()
    login_as(officer)
    few, html = _statements_for(client, engine, f"/messages/{thread.id}")
    assert f"ziņa {THREAD_PAGE_SIZE + 4}" in html and ">ziņa 0<" not in html
    assert 'data-testid="earlier"' in html
    earlier = html.split('data-testid="earlier"')[0].rsplit('href="', 1)[1].split('"')[0]
    older = client.get(earlier.replace("&amp;", "&")).get_data(as_text=True)
    assert "ziņa 0" in older
    for i in range(20):
        services.post_message(db_session, clock, member, thread.id, f"vēl {i}")
    db_session.commit()
    more, _ = _statements_for(client, engine, f"/messages/{thread.id}")
    assert more == few, (few, more)
