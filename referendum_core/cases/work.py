"""Cases that need a person: those waiting for a party the person acts as (the workflow state's
owner, ``Case.owner_party``), and open cases past their deadline that the person oversees.

Counted in one aggregate statement and listed most urgent first, whatever the number of cases,
for the portal's navigation and home page (``portal.cases.work``).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, not_, or_, select
from sqlalchemy.orm import Session

from referendum_core.cases.models import Case
from referendum_core.cases.queries import SORTS, Visibility, visible_clause
from referendum_core.cases.workflows import Party


@dataclass(frozen=True)
class Turn:
    """Where it is the person's turn: municipalities where they act for the commission or as
    its chair (``None`` = everywhere), whether they act for CVK, and their own cases (as the
    one who filed them). Case types listed in ``skip_types`` are left to their own pages
    (an initiative's decision, a referendum's stages)."""

    commission_in: frozenset[int] | None = frozenset()
    chair_in: frozenset[int] | None = frozenset()
    is_cvk: bool = False
    requester_id: int | None = None
    skip_types: tuple[str, ...] = ()
    # (case type, municipalities) whose cases are left to their own pages even when overdue
    # (the person is listed their steps there: a referendum's, for the commission managing it).
    own_pages: tuple[tuple[str, frozenset[int]], ...] = ()


def _within(ids: frozenset[int] | None) -> Any:
    if ids is None:
        return Case.municipality_id.is_not(None)
    return Case.municipality_id.in_(sorted(ids)) if ids else false()


def turn_clause(turn: Turn) -> Any:
    """Open cases waiting for one of the parties ``turn`` names."""
    # Each term names its party and openness, so a database reads each through the index on
    # (owner_party, is_open, municipality_id) rather than scanning every open case; a party the
    # person never acts as is left out rather than written as a false term.
    waiting: list[tuple[Party, Any]] = [
        (party, _within(ids)) for party, ids in ((Party.COMMISSION, turn.commission_in),
                                                 (Party.CHAIR, turn.chair_in))
        if ids is None or ids]
    if turn.is_cvk:
        waiting.append((Party.CVK, None))
    if turn.requester_id is not None:
        waiting.append((Party.REQUESTER, Case.created_by_id == turn.requester_id))
    terms = [and_(Case.owner_party == party.value, Case.is_open.is_(True),
                  *([] if extra is None else [extra])) for party, extra in waiting]
    clause = or_(*terms) if terms else false()
    if turn.skip_types:
        clause = and_(clause, Case.type.not_in(turn.skip_types))
    return clause


def _left_to_own_pages(turn: Turn) -> Any:
    """Cases ``turn`` leaves to their own pages even when overdue."""
    clauses = [and_(Case.type == kind, Case.municipality_id.in_(sorted(ids)))
               for kind, ids in turn.own_pages if ids]
    return or_(*clauses) if clauses else false()


def overdue_clause(oversees: Visibility | None, now: datetime) -> Any:
    """Open cases past their deadline among those ``oversees`` shows (``None``: none)."""
    if oversees is None:
        return false()
    visible = visible_clause(oversees)
    overdue = and_(Case.is_open.is_(True), Case.deadline_at < now)
    return overdue if visible is None else and_(overdue, visible)


#: Counts stop here: the navigation shows "99+" beyond it (``portal.cases.work``), and each
#: count reads at most this many rows, whatever the number of cases (CVK oversees all of them;
#: an exact count over 100,000 cases cost every page about 20 ms).
COUNT_CAP = 100


def _capped(where: Any, cap: int) -> Any:
    return select(func.count()).select_from(
        select(Case.id).where(where).limit(cap).subquery()).scalar_subquery()


def count_work(session: Session, turn: Turn, oversees: Visibility | None,
               now: datetime, *, cap: int = COUNT_CAP) -> tuple[int, int]:
    """(cases waiting for the person, open cases past their deadline among those they oversee
    or that wait for them), each counted up to ``cap``, in one statement."""
    waiting, overdue = turn_clause(turn), and_(or_(
        overdue_clause(oversees, now), and_(turn_clause(turn), Case.deadline_at < now)),
        not_(_left_to_own_pages(turn)))
    row = session.execute(select(_capped(waiting, cap), _capped(overdue, cap))).one()
    return int(row[0]), int(row[1])


def work_cases(session: Session, turn: Turn, oversees: Visibility | None, now: datetime,
               limit: int, *, skip_ids: Collection[int] = ()) -> list[tuple[Case, bool]]:
    """Up to ``limit`` cases that wait for the person or are overdue under their oversight,
    earliest deadline first (no deadline last), each with whether it waits for them."""
    waiting = turn_clause(turn)
    stmt = select(Case, case((waiting, True), else_=False)).where(
        or_(waiting, overdue_clause(oversees, now)), not_(_left_to_own_pages(turn)))
    if skip_ids:
        stmt = stmt.where(Case.id.not_in(list(skip_ids)))
    rows = session.execute(stmt.order_by(*SORTS["deadline"]).limit(limit)).all()
    return [(row[0], bool(row[1])) for row in rows]
