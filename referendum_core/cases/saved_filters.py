"""A person's named work-queue filters (the query string of the case list)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from referendum_core.audit import Actor
from referendum_core.cases.exceptions import NotAllowed
from referendum_core.cases.lifecycle import clean_text
from referendum_core.cases.models import SavedFilter
from referendum_core.clock import Clock


def save_filter(session: Session, clock: Clock, user: Actor, name: str, query: str) -> SavedFilter:
    """Save (or replace) a named work-queue filter for ``user``.

    Raises:
        InvalidCaseData: empty name, or a query string too long.
    """
    name = clean_text(name, "name", limit=80)
    query = clean_text(query, "query", required=False, limit=1000)
    existing = session.query(SavedFilter).filter_by(user_id=user.id, name=name).one_or_none()
    if existing is not None:
        existing.query = query
        session.flush()
        return existing
    saved = SavedFilter(user_id=user.id, name=name, query=query, created_at=clock.now())
    session.add(saved)
    session.flush()
    return saved


def delete_filter(session: Session, user: Actor, filter_id: int) -> None:
    """Delete one of ``user``'s saved filters (others' are left alone).

    Raises:
        NotAllowed: no such filter of this user.
    """
    saved = session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        raise NotAllowed("no such filter")
    session.delete(saved)
    session.flush()
