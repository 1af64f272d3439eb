"""Work-queue queries: filter, sort and page cases using the indexes declared on ``cases``."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, false, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from referendum_core.cases.models import Case, CaseEvent, EventKind

SORTS = {
    "newest": (Case.opened_at.desc(), Case.id.desc()),
    "oldest": (Case.opened_at.asc(), Case.id.asc()),
    # Cases without a deadline last (an indexed "IS NULL" key keeps this portable).
    "deadline": (Case.deadline_at.is_(None), Case.deadline_at.asc(), Case.id.asc()),
    "updated": (Case.updated_at.desc(), Case.id.desc()),
}
MAX_PER_PAGE = 100
# A work queue counts its cases exactly up to this many and past it says "more than": an exact
# count reads every matching case's index entry on every request (100 000 for CVK's queue).
COUNT_LIMIT = 10_000
# From this many cases in, a page is found by walking the queue's ids alone (an index-only
# scan on PostgreSQL) and reading only the page's rows, not every row it skips.
DEFERRED_OFFSET = 1_000
# LIMIT takes a 32-bit integer on PostgreSQL; a page number from the URL may be anything.
_MAX_ROWS = 2**31 - 2
RESUBMISSION_KINDS = (EventKind.RETURNED_TO_REQUESTER.value, EventKind.RESUBMITTED.value)


class likely(FunctionElement[bool]):  # noqa: N801 - reads as a SQL function
    """A condition many rows meet. SQLite without ``ANALYZE`` statistics guesses any range test
    selective, so for "overdue, newest first" it would fetch every overdue case by deadline and
    sort them all; ``likelihood(cond, 0.9)`` makes it walk ``ix_cases_open_opened`` in page
    order instead (the test is read from that index: cheap even when few cases match).
    Other databases plan from statistics and get the bare condition."""

    name = "likely"
    inherit_cache = True


@compiles(likely)
def _likely_default(element: likely, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(likely, "sqlite")
def _likely_sqlite(element: likely, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clauses, **kw)}, 0.9)"


@dataclass(frozen=True)
class Visibility:
    """Which cases a person may see: whole municipalities (``None`` = all) and their own."""

    municipality_ids: frozenset[int] | None
    own_user_id: int | None = None


@dataclass
class CaseFilter:
    """A work-queue filter; every field optional."""

    types: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    municipality_ids: list[int] = field(default_factory=list)
    assignee_id: int | None = None
    unassigned: bool = False
    overdue: bool = False
    is_open: bool | None = None
    created_by_id: int | None = None
    case_ids: list[int] = field(default_factory=list)
    # True: only cases that went back to the requester at least once; False: only those that
    # never did (the service level's "completed without re-submitting").
    returned: bool | None = None


@dataclass(frozen=True)
class Page:
    """One page of a work queue. ``total`` is the number of matching cases, or, when
    ``total_is_exact`` is false, a number of cases that more than match."""

    items: list[Case]
    page: int
    per_page: int
    total: int
    total_is_exact: bool = True

    @property
    def pages(self) -> int | None:
        """How many pages there are (``None`` when the total is not known exactly)."""
        return max(1, -(-self.total // self.per_page)) if self.total_is_exact else None

    @property
    def has_next(self) -> bool:
        return not self.total_is_exact or self.page * self.per_page < self.total

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def visible_clause(visibility: Visibility) -> Any:
    """The cases ``visibility`` shows, as a WHERE clause (``None``: every case)."""
    if visibility.municipality_ids is None:
        return None
    clauses = []
    if visibility.municipality_ids:
        clauses.append(Case.municipality_id.in_(sorted(visibility.municipality_ids)))
    if visibility.own_user_id is not None:
        clauses.append(Case.created_by_id == visibility.own_user_id)
    return or_(*clauses) if clauses else false()


def _visible(stmt: Select[Any], visibility: Visibility) -> Select[Any]:
    clause = visible_clause(visibility)
    return stmt if clause is None else stmt.where(clause)


def filtered(stmt: Select[Any], flt: CaseFilter, visibility: Visibility,
             now: datetime) -> Select[Any]:
    """Apply visibility and ``flt`` to a select over ``Case``."""
    stmt = _visible(stmt, visibility)
    if flt.types:
        stmt = stmt.where(Case.type.in_(flt.types))
    if flt.states:
        stmt = stmt.where(Case.state.in_(flt.states))
    if flt.municipality_ids:
        stmt = stmt.where(Case.municipality_id.in_(flt.municipality_ids))
    if flt.unassigned:
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif flt.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == flt.assignee_id)
    if flt.overdue:
        stmt = stmt.where(Case.is_open.is_(True), likely(Case.deadline_at < now))
    elif flt.is_open is not None:
        stmt = stmt.where(Case.is_open.is_(flt.is_open))
    if flt.created_by_id is not None:
        stmt = stmt.where(Case.created_by_id == flt.created_by_id)
    if flt.case_ids:
        stmt = stmt.where(Case.id.in_(flt.case_ids))
    if flt.returned is not None:
        went_back = exists().where(CaseEvent.case_id == Case.id,
                                   CaseEvent.kind.in_(RESUBMISSION_KINDS))
        stmt = stmt.where(went_back if flt.returned else ~went_back)
    return stmt


def list_cases(session: Session, flt: CaseFilter, visibility: Visibility, now: datetime, *,
               sort: str = "newest", page: int = 1, per_page: int = 50,
               count_limit: int | None = COUNT_LIMIT) -> Page:
    """A page of the cases ``visibility`` allows that match ``flt``; a page past the end is
    the last page.

    Cases are counted exactly up to ``count_limit`` (``None``: always exactly). A page lying
    beyond ``count_limit`` is not counted to: it is read with one row more, which tells
    whether another page follows (and, on the last page, the exact total)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    order = SORTS.get(sort, SORTS["newest"])
    page = max(1, min(page, _MAX_ROWS // per_page))
    offset = (page - 1) * per_page
    if count_limit is None or offset < count_limit:
        total = _count(session, flt, visibility, now, count_limit)
        if count_limit is not None and total > count_limit:
            items = _rows(session, flt, visibility, now, order, offset, per_page)
            return Page(items, page, per_page, count_limit, total_is_exact=False)
    else:
        items = _rows(session, flt, visibility, now, order, offset, per_page + 1)
        if len(items) > per_page:
            return Page(items[:per_page], page, per_page, offset + per_page,
                        total_is_exact=False)
        if items:
            return Page(items, page, per_page, offset + len(items))
        total = _count(session, flt, visibility, now, None)  # past the end: find the last page
    page = max(1, min(page, -(-total // per_page)))
    items = _rows(session, flt, visibility, now, order, (page - 1) * per_page, per_page)
    return Page(items, page, per_page, total)


def _count(session: Session, flt: CaseFilter, visibility: Visibility, now: datetime,
           limit: int | None) -> int:
    """How many cases match, counting no further than ``limit`` + 1."""
    matching = filtered(select(Case.id), flt, visibility, now)
    if limit is not None:
        matching = matching.limit(limit + 1)
    return session.scalar(select(func.count()).select_from(matching.subquery())) or 0


def _rows(session: Session, flt: CaseFilter, visibility: Visibility, now: datetime,
          order: tuple[Any, ...], offset: int, limit: int) -> list[Case]:
    """``limit`` matching cases in ``order`` after skipping ``offset``. A deep page skips ids
    only (in the queue's index) and then reads the rows of the page it found."""
    if offset < DEFERRED_OFFSET:
        stmt = filtered(select(Case), flt, visibility, now).order_by(*order)
        return list(session.scalars(stmt.offset(offset).limit(limit)))
    ids = (filtered(select(Case.id), flt, visibility, now).order_by(*order)
           .offset(offset).limit(limit).subquery())
    return list(session.scalars(select(Case).join(ids, Case.id == ids.c.id).order_by(*order)))


def iter_cases(session: Session, flt: CaseFilter, visibility: Visibility, now: datetime, *,
               chunk: int = 1000) -> Iterator[Case]:
    """Every matching case, oldest first, fetched in keyset chunks (for streaming exports)."""
    last_id = 0
    while True:
        rows = session.scalars(
            filtered(select(Case), flt, visibility, now).where(Case.id > last_id)
            .order_by(Case.id).limit(chunk)
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        for row in rows:
            yield row
            session.expunge(row)
