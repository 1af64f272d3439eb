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
