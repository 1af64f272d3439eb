"""``unread_threads``: the threads with messages a person has not read, through a group
membership as in person, most recent first, in one statement whatever their number."""
from __future__ import annotations

from messaging import services
from messaging.rules import Target, TargetKind
from tests.statements import captured_statements


def test_unread_threads_by_membership_most_recent_first(db_session, clock, people):
    member, officer, other = people.member(), people.cvk_officer(), people.member("0001000")
    first = services.create_thread(db_session, clock, member, subject="Pirmā", text="Viens",
                                   targets=[Target(TargetKind.CVK)])
    second = services.create_thread(db_session, clock, member, subject="Otrā", text="Divi",
                                    targets=[Target(TargetKind.CVK)])
    services.post_message(db_session, clock, member, first, "Vēl viens")
    with captured_statements(db_session) as statements:
        unread = services.unread_threads(db_session, officer)
    assert unread == [(first.id, 2), (second.id, 1)] and len(statements) == 1
    assert services.unread_threads(db_session, member) == []  # the author's own messages
    assert services.unread_threads(db_session, other) == []  # not in these threads
    services.mark_read(db_session, clock, officer, first)
    assert services.unread_threads(db_session, officer) == [(second.id, 1)]
