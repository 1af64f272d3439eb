"""The cases' work providers (``portal.work``): cases waiting for a party the person acts as,
and open cases past their deadline that the person works on or oversees; and the steps the law
requires by a deadline on a referendum's timeline (the Voter Register Law's, Art. 14, 23-24)
falling due soon, for the commission that manages the referendum (counted beside
"Referendums").

Initiatives and referendums are cases too, but their next steps are listed by their own
providers (``portal.initiatives.work``, ``portal.voting.work``), which link to the pages where
those steps are taken; here they count only when overdue.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import false, func, select

from portal.cases.access import visibility_for
from portal.cases.labels import CASE_TYPES, PARTIES, STATES, STEPS, label
from portal.permissions import Permission, has_permission, municipalities_for
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.cases.models import Case, CaseEvent, CaseType, EventKind, ObserverReport
from referendum_core.cases.queries import Visibility
from referendum_core.cases.work import COUNT_CAP, Turn, count_work, work_cases

OWN_PAGES = (CaseType.INITIATIVE.value, CaseType.REFERENDUM.value)
# Steps are shown from this long before their deadline (the law's steps are days to weeks apart).
STEP_HORIZON = timedelta(days=14)


def _frozen(ids: set[int] | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(ids)


def turn_of(user: Any) -> Turn:
    """The parties ``user`` acts as, where (see ``portal.cases.access.parties_for``). Where
    they manage referendums, a referendum's case is left to the referendum's own items
    (``portal.voting.work``) even when overdue: one item per thing."""
    return Turn(
        commission_in=_frozen(municipalities_for(user, Permission.HANDLE_COMMISSION_CASES)),
        chair_in=_frozen(municipalities_for(user, Permission.DECIDE_CASES)),
        is_cvk=has_permission(user, Permission.HANDLE_CVK_CASES),
        requester_id=getattr(user, "id", None), skip_types=OWN_PAGES,
        own_pages=((CaseType.REFERENDUM.value, frozenset(
            municipalities_for(user, Permission.MANAGE_REFERENDUM) or ())),))


def oversight_of(user: Any) -> Visibility | None:
    """Whose overdue cases ``user`` is shown: an official's whole queue; nobody else's."""
    return visibility_for(user) if has_permission(user, Permission.WORK_CASES) else None


def _counts(ctx: WorkContext) -> list[Count]:
    waiting, overdue = count_work(ctx.session, turn_of(ctx.user), oversight_of(ctx.user),
                                  ctx.now)
    # Counted up to COUNT_CAP: beyond it the navigation shows "99+".
    return [Count("cases.queue", waiting, gettext("more than 99 awaiting you")
                  if waiting >= COUNT_CAP else ngettext(
                      "%(num)d awaiting you", "%(num)d awaiting you", waiting)),
            Count("cases.queue", overdue, gettext("more than 99 overdue")
                  if overdue >= COUNT_CAP else ngettext(
                      "%(num)d overdue", "%(num)d overdue", overdue), is_urgent=True)]


# Among items due at the same time, a critical observer report comes before a high one.
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _severities(ctx: WorkContext, case_ids: list[int]) -> dict[int, int]:
    """The observer reports' severity rank by case id (one statement)."""
    if not case_ids:
        return {}
    return {case_id: SEVERITY_RANK.get(severity, 0) for case_id, severity in ctx.session.execute(
        select(ObserverReport.case_id, ObserverReport.severity).where(
            ObserverReport.case_id.in_(case_ids)))}


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    found = []
    rows = work_cases(ctx.session, turn_of(ctx.user), oversight_of(ctx.user), ctx.now, limit)
    severity = _severities(ctx, [case.id for case, _ in rows])
    for case, is_theirs in rows:
        overdue = case.deadline_at is not None and case.deadline_at < ctx.now
        state = label(STATES, case.state)
        reason = state if is_theirs else gettext(
            "%(state)s; next to act: %(party)s", state=state,
            party=label(PARTIES, case.owner_party))
        found.append(WorkItem(
            title=f"{case.reference}: {case.title}", url=url_for("cases.case_page",
                                                                   case_id=case.id),
            reason=f"{label(CASE_TYPES, case.type)} · {reason}", deadline_at=case.deadline_at,
            basis=case.deadline_basis, is_urgent=overdue, area="cases",
            severity=severity.get(case.id, 0)))
    return found


def _steps(ctx: WorkContext) -> Any:
    """Steps falling due on the referendums of the commissions the person manages them for
    (CVK's national oversight takes none of the commissions' steps)."""
    munis = sorted(municipalities_for(ctx.user, Permission.MANAGE_REFERENDUM) or ())
    return (select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id).where(
        Case.type == CaseType.REFERENDUM.value, CaseEvent.kind == EventKind.STEP.value,
        Case.municipality_id.in_(munis) if munis else false(),
        CaseEvent.deadline_at >= ctx.now, CaseEvent.deadline_at < ctx.now + STEP_HORIZON))


def _step_counts(ctx: WorkContext) -> list[Count]:
    steps = ctx.session.scalar(select(func.count()).select_from(_steps(ctx).subquery())) or 0
    return [Count("voting.index", steps, ngettext("%(num)d step due", "%(num)d steps due",
                                                  steps))]


def _step_items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    rows = ctx.session.execute(_steps(ctx).order_by(CaseEvent.deadline_at).limit(limit)).all()
    return [WorkItem(title=f"{case.reference}: {case.title}",
                     url=url_for("cases.case_page", case_id=case.id) + "#timeline",
                     reason=gettext("Step required by law: %(step)s",
                                    step=label(STEPS, event.data_dict.get("step"))),
                     deadline_at=event.deadline_at, basis=event.data_dict.get("basis"),
                     area="cases")
            for event, case in rows]


PROVIDER = register(WorkProvider("cases", _counts, _items, order=20))
STEPS_PROVIDER = register(WorkProvider("case_steps", _step_counts, _step_items, order=45))
