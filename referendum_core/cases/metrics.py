"""Service-level figures, computed in SQL from the recorded case events.

* time to submit — from the requester opening the form (``draft_started``) to the case being
  filed (``opened``);
* time to fulfil — from ``opened`` to ``closed``: count, median and 90th percentile (nearest
  rank) per case type and per municipality;
* first-time-right — the share of closed cases that never went back to the requester
  (no ``returned_to_requester`` / ``resubmitted`` event); the operator's target is > 90 %;
* past deadline — open cases whose deadline has passed, and closed cases closed after the
  deadline that was running when they closed (the deadline snapshot on the ``closed`` event).

Percentiles use window functions (``row_number``/``count`` over a partition), which SQLite and
PostgreSQL both have, so the figures are the same on both.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from referendum_core.cases.models import Case, CaseEvent, EventKind
from referendum_core.cases.queries import RESUBMISSION_KINDS

FIRST_TIME_RIGHT_TARGET = 0.90


@dataclass(frozen=True)
class Durations:
    """Count, median and 90th percentile (seconds) of one group."""

    group: Any
    count: int
    median_s: float
    p90_s: float


@dataclass(frozen=True)
class Share:
    group: str
    closed: int
    first_time_right: int

    @property
    def share(self) -> float:
        return self.first_time_right / self.closed if self.closed else 1.0

    @property
    def meets_target(self) -> bool:
        return self.share > FIRST_TIME_RIGHT_TARGET


@dataclass(frozen=True)
class Overdue:
    group: str
    open_past_deadline: int
    closed_late: int


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _percentiles(session: Session, rows: Any) -> list[Durations]:
    """Nearest-rank median and p90 per ``grp`` of a subquery with columns ``grp``, ``dur``."""
    ranked = select(
        rows.c.grp, rows.c.dur,
        func.row_number().over(partition_by=rows.c.grp, order_by=rows.c.dur).label("rn"),
        func.count().over(partition_by=rows.c.grp).label("n"),
    ).subquery()
    stmt = select(
        ranked.c.grp, ranked.c.n,
        func.min(case((ranked.c.rn >= ranked.c.n * 0.5, ranked.c.dur))),
        func.min(case((ranked.c.rn >= ranked.c.n * 0.9, ranked.c.dur))),
    ).group_by(ranked.c.grp, ranked.c.n).order_by(ranked.c.grp)
    return [Durations(grp, int(n), float(med or 0), float(p90 or 0))
            for grp, n, med, p90 in session.execute(stmt)]


def _scope(stmt: Any, municipality_ids: frozenset[int] | None, since: datetime | None,
           opened: Any) -> Any:
    if municipality_ids is not None:
        stmt = stmt.where(Case.municipality_id.in_(sorted(municipality_ids)))
    if since is not None:
        stmt = stmt.where(opened.at >= since)
    return stmt


def time_to_submit(session: Session, *, municipality_ids: frozenset[int] | None = None,
                   since: datetime | None = None) -> list[Durations]:
    """Form opened → case filed, per case type."""
    draft, opened = aliased(CaseEvent), aliased(CaseEvent)
    rows = select(Case.type.label("grp"), _seconds(session, draft.at, opened.at).label("dur")) \
        .join(draft, and_(draft.case_id == Case.id, draft.kind == EventKind.DRAFT_STARTED.value)) \
        .join(opened, and_(opened.case_id == Case.id, opened.kind == EventKind.OPENED.value))
    return _percentiles(session, _scope(rows, municipality_ids, since, opened).subquery())


def time_to_fulfil(session: Session, *, by: str = "type",
                   municipality_ids: frozenset[int] | None = None,
                   since: datetime | None = None) -> list[Durations]:
    """Case opened → closed, per case type (``by="type"``) or municipality id (``"municipality"``)."""
    opened, closed = aliased(CaseEvent), aliased(CaseEvent)
    group = Case.type if by == "type" else Case.municipality_id
    rows = select(group.label("grp"), _seconds(session, opened.at, closed.at).label("dur")) \
        .join(opened, and_(opened.case_id == Case.id, opened.kind == EventKind.OPENED.value)) \
        .join(closed, and_(closed.case_id == Case.id, closed.kind == EventKind.CLOSED.value))
    return _percentiles(session, _scope(rows, municipality_ids, since, opened).subquery())


def first_time_right(session: Session, *, municipality_ids: frozenset[int] | None = None,
                     since: datetime | None = None) -> list[Share]:
    """Closed cases per type, and how many never went back to the requester."""
    closed = aliased(CaseEvent)
    went_back = exists().where(CaseEvent.case_id == Case.id,
                               CaseEvent.kind.in_(RESUBMISSION_KINDS))
    stmt = select(Case.type, func.count(),
                  func.sum(case((went_back, 0), else_=1))) \
        .join(closed, and_(closed.case_id == Case.id, closed.kind == EventKind.CLOSED.value)) \
        .group_by(Case.type).order_by(Case.type)
    if municipality_ids is not None:
        stmt = stmt.where(Case.municipality_id.in_(sorted(municipality_ids)))
    if since is not None:
        stmt = stmt.where(closed.at >= since)
    return [Share(t, int(n), int(ok or 0)) for t, n, ok in session.execute(stmt)]


def past_deadline(session: Session, now: datetime, *,
                  municipality_ids: frozenset[int] | None = None) -> list[Overdue]:
    """Per type: open cases past their deadline now, and cases that were closed late."""
    open_stmt = select(Case.type, func.count()).where(
        Case.is_open.is_(True), Case.deadline_at < now).group_by(Case.type)
    late_stmt = select(Case.type, func.count()).join(
        CaseEvent, and_(CaseEvent.case_id == Case.id, CaseEvent.kind == EventKind.CLOSED.value,
                        CaseEvent.deadline_at.is_not(None), CaseEvent.at > CaseEvent.deadline_at)
    ).group_by(Case.type)
    if municipality_ids is not None:
        ids = sorted(municipality_ids)
        open_stmt = open_stmt.where(Case.municipality_id.in_(ids))
        late_stmt = late_stmt.where(Case.municipality_id.in_(ids))
    open_counts = {t: n for t, n in session.execute(open_stmt)}
    late_counts = {t: n for t, n in session.execute(late_stmt)}
    types = sorted(set(open_counts) | set(late_counts))
    return [Overdue(t, int(open_counts.get(t, 0)), int(late_counts.get(t, 0))) for t in types]


def totals(session: Session, now: datetime, *,
           municipality_ids: frozenset[int] | None = None) -> dict[str, int]:
    """Headline counts: open, closed, open past deadline."""
    stmt = select(
        func.count(),
        func.sum(case((Case.is_open.is_(True), 1), else_=0)),
        func.sum(case((and_(Case.is_open.is_(True), Case.deadline_at < now), 1), else_=0)),
    ).select_from(Case).where(literal(True) if municipality_ids is None
                              else Case.municipality_id.in_(sorted(municipality_ids)))
    total, open_, overdue = session.execute(stmt).one()
    return {"total": int(total or 0), "open": int(open_ or 0),
            "closed": int(total or 0) - int(open_ or 0), "overdue": int(overdue or 0)}
