"""What each open page of a thread costs per delivered message: it fetches the rendered
message and sends a read receipt, so both run a small, fixed number of statements — the same for
a message with attachments and revisions as for a plain one, and for the first receipt as for
later ones, however many notices the reader had pending."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from messaging import services
from messaging.models import Notification, NotificationStatus
from messaging.rules import Target, TargetKind
from tests.statements import captured_statements

PDF = (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nxref\n0 1\n0000000000 65535 f \n"
       b"startxref\n0\n%%EOF\n")


def _statements(client, db_session, method, path, **kwargs):
    with captured_statements(db_session) as seen:
        answer = getattr(client, method)(path, **kwargs)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return seen, answer


def test_fragment_is_fixed_work_whatever_the_message_holds(client, login_as, db_session, clock,
                                                           people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="S", text="vienkārša",
                                    targets=[Target(TargetKind.CVK)])
    plain = services.recent_messages(db_session, thread)[0][0]
    rich = services.post_message(db_session, clock, member, thread.id, "ar pielikumu",
                                 uploads=[services.Upload("protokols.pdf", PDF)])
    clock.advance(timedelta(minutes=1))
    services.edit_message(db_session, clock, member, rich.id, "ar pielikumu (labots)")
    db_session.commit()
    login_as(officer)
    counts = {}
    for message in (plain, rich):
        seen, answer = _statements(client, db_session, "get",
                                   f"/messages/{thread.id}/m/{message.id}")
        counts[message.id] = seen
    assert "protokols.pdf" in answer.get_data(as_text=True)
    assert len(counts[plain.id]) == len(counts[rich.id]), counts[rich.id]
    # user, thread with participants, the reader's memberships (a group), the message with its
    # attachments and revisions, its author
    assert len(counts[rich.id]) <= 5, counts[rich.id]


def test_read_receipt_is_fixed_work(client, login_as, db_session, clock, people):
    member, officer = people.member(), people.cvk_officer()
    thread = services.create_thread(db_session, clock, member, subject="S", text="pirmā",
                                    targets=[Target(TargetKind.CVK)])
    db_session.commit()
    login_as(officer)
    first, _ = _statements(client, db_session, "post", f"/messages/{thread.id}/read")
    for n in range(3):
        services.post_message(db_session, clock, member, thread.id, f"vēl {n}")
    services.post_message(db_session, clock, member, thread.id,
                          "@" + officer.email.split("@")[0])  # a mention notice pending too
    db_session.commit()
    later, _ = _statements(client, db_session, "post", f"/messages/{thread.id}/read")
    assert len(first) == len(later), later
    assert sum(s.startswith("UPDATE notification_outbox") for s in later) == 1
    db_session.expire_all()
    assert not db_session.scalars(select(Notification).where(
        Notification.user_id == officer.id,
        Notification.status == NotificationStatus.PENDING)).all()
