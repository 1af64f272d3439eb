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
    """One page of a work queue."""

    items: list[Case]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def _visible(stmt: Select[Any], visibility: Visibility) -> Select[Any]:
    if visibility.municipality_ids is None:
        return stmt
    clauses = []
    if visibility.municipality_ids:
        clauses.append(Case.municipality_id.in_(sorted(visibility.municipality_ids)))
    if visibility.own_user_id is not None:
        clauses.append(Case.created_by_id == visibility.own_user_id)
    return stmt.where(or_(*clauses) if clauses else false())


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
               sort: str = "newest", page: int = 1, per_page: int = 50) -> Page:
    """A page of the cases ``visibility`` allows that match ``flt``."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    order = SORTS.get(sort, SORTS["newest"])
    total = session.scalar(filtered(select(func.count(Case.id)), flt, visibility, now)) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    items = session.scalars(
        filtered(select(Case), flt, visibility, now).order_by(*order)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(list(items), page, per_page, total)


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
