"""The initiatives' work provider (``portal.work``): initiatives awaiting the municipality's
decision (Art. 10(4)) or the commission's signature check (Art. 13) where the person decides
for the commission, and the organiser's application after a successful collection
(Art. 11(2)). Also the list the "Initiatives" page shows officials (``awaiting_decision``)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from portal.permissions import Permission, municipalities_for
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.cases.models import Case
from referendum_core.initiatives import Initiative

DECIDE, CHECK, APPLY = "submitted", "applied", "collected"


def _in(ids: set[int] | None) -> Any:
    if ids is None:
        return Initiative.municipality_id.is_not(None)
    return Initiative.municipality_id.in_(sorted(ids)) if ids else false()


def _theirs(user: Any) -> Any:
    """Initiatives waiting for ``user``: to decide or check for the commission, or to apply
    as the organiser."""
    deciding = _in(municipalities_for(user, Permission.DECIDE_INITIATIVE))
    return or_(and_(Case.state.in_((DECIDE, CHECK)), deciding),
               and_(Case.state == APPLY, Initiative.applicant_id == getattr(user, "id", -1)))


def awaiting_decision(session: Session, user: Any) -> list[Initiative]:
    """Initiatives awaiting the municipality's decision that ``user`` may see (those of the
    municipalities whose cases they see), earliest deadline first."""
    stmt = (select(Initiative).join(Case, Case.id == Initiative.case_id)
            .where(Case.state == DECIDE, _in(municipalities_for(user, Permission.VIEW_CASES)))
            .order_by(Initiative.decision_due_on, Initiative.id))
    return list(session.scalars(stmt))


def _counts(ctx: WorkContext) -> list[Count]:
    by_state = dict(ctx.session.execute(
        select(Case.state, func.count()).select_from(Initiative)
        .join(Case, Case.id == Initiative.case_id).where(_theirs(ctx.user))
        .group_by(Case.state)).all())
    decisions = int(by_state.pop(DECIDE, 0))
    others = sum(int(n) for n in by_state.values())
    return [Count("initiatives.index", decisions, ngettext(
        "%(num)d awaiting a decision", "%(num)d awaiting a decision", decisions),
        is_urgent=True),
        Count("initiatives.index", others, ngettext(
            "%(num)d awaiting you", "%(num)d awaiting you", others))]


def _reason(state: str) -> str:
    if state == DECIDE:
        return gettext("Initiative awaiting your decision: can the referendum be held?")
    if state == CHECK:
        return gettext("Initiative: check the collected signatures")
    return gettext("Initiative: enough signatures; apply to the election commission")


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    rows = ctx.session.execute(
        select(Initiative, Case).join(Case, Case.id == Initiative.case_id)
        .where(_theirs(ctx.user)).order_by(Case.deadline_at.is_(None), Case.deadline_at)
        .limit(limit)).all()
    return [WorkItem(title=f"{case.reference}: {initiative.question}",
                     url=url_for("initiatives.show", initiative_id=initiative.id)
                     + ("#decide" if case.state == DECIDE else ""),
                     reason=_reason(case.state), deadline_at=case.deadline_at,
                     basis=case.deadline_basis,
                     is_urgent=case.deadline_at is not None and case.deadline_at < ctx.now,
                     area="initiatives")
            for initiative, case in rows]


PROVIDER = register(WorkProvider("initiatives", _counts, _items, order=30))
