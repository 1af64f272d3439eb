"""Portal-level case services: the domain writes plus what lives outside ``referendum_core``
— every case gets one message thread (``messaging``), and system notices go into it."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from messaging import services as messaging
from referendum_core.cases.models import Case, EventKind
from referendum_core.cases.services import add_event
from referendum_core.clock import Clock


def open_thread(session: Session, clock: Clock, actor: Any, case: Case) -> Any:
    """Open the case's thread (CVK, the municipality's commission and the requester) and note
    it on the timeline; calling it again returns the same thread."""
    participants = [case.created_by_id] if case.created_by_id is not None else []
    thread = messaging.open_case_thread(
        session, clock, actor, case_id=case.id, subject=f"{case.reference}: {case.title}",
        municipality_id=case.municipality_id, participant_user_ids=participants)
    if not any(e.kind == EventKind.MESSAGE for e in case.events):
        add_event(case, clock, actor, EventKind.MESSAGE, note="", thread_id=thread.id)
        session.flush()
    return thread


def thread_id_for(session: Session, case: Case) -> int | None:
    """The id of the case's thread, if it has one."""
    thread = messaging.thread_for_case(session, case.id)
    return thread.id if thread is not None else None


def notify_in_thread(session: Session, clock: Clock, case: Case, text: str) -> None:
    """Post a system notice in the case's thread (opening the thread if needed)."""
    thread = messaging.thread_for_case(session, case.id) or open_thread(session, clock, None, case)
    messaging.post_system_message(session, clock, thread, text)
