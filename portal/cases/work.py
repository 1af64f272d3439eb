"""The cases' work provider (``portal.work``): cases waiting for a party the person acts as, and
open cases past their deadline that the person works on or oversees.

Initiatives and referendums are cases too, but their next steps are listed by their own
providers (``portal.initiatives.work``, ``portal.voting.work``), which link to the pages where
those steps are taken; here they count only when overdue.
"""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext

from portal.cases.access import visibility_for
from portal.cases.labels import CASE_TYPES, PARTIES, STATES, label
from portal.permissions import Permission, has_permission, municipalities_for
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.cases.models import CaseType
from referendum_core.cases.queries import Visibility
from referendum_core.cases.work import Turn, count_work, work_cases

OWN_PAGES = (CaseType.INITIATIVE.value, CaseType.REFERENDUM.value)


def _frozen(ids: set[int] | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(ids)


def turn_of(user: Any) -> Turn:
    """The parties ``user`` acts as, where (see ``portal.cases.access.parties_for``)."""
    return Turn(
        commission_in=_frozen(municipalities_for(user, Permission.HANDLE_COMMISSION_CASES)),
        chair_in=_frozen(municipalities_for(user, Permission.DECIDE_CASES)),
        is_cvk=has_permission(user, Permission.HANDLE_CVK_CASES),
        requester_id=getattr(user, "id", None), skip_types=OWN_PAGES)


def oversight_of(user: Any) -> Visibility | None:
    """Whose overdue cases ``user`` is shown: an official's whole queue; nobody else's."""
    return visibility_for(user) if has_permission(user, Permission.WORK_CASES) else None


def _counts(ctx: WorkContext) -> list[Count]:
    waiting, overdue = count_work(ctx.session, turn_of(ctx.user), oversight_of(ctx.user),
                                  ctx.now)
    return [Count("cases.queue", waiting, ngettext("%(num)d awaiting you",
                                                   "%(num)d awaiting you", waiting)),
            Count("cases.queue", overdue, ngettext("%(num)d overdue", "%(num)d overdue",
                                                   overdue), is_urgent=True)]


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    found = []
    for case, is_theirs in work_cases(ctx.session, turn_of(ctx.user), oversight_of(ctx.user),
                                      ctx.now, limit):
        overdue = case.deadline_at is not None and case.deadline_at < ctx.now
        state = label(STATES, case.state)
        reason = state if is_theirs else gettext(
            "%(state)s; next to act: %(party)s", state=state,
            party=label(PARTIES, case.owner_party))
        found.append(WorkItem(
            title=f"{case.reference}: {case.title}", url=url_for("cases.case_page",
                                                                   case_id=case.id),
            reason=f"{label(CASE_TYPES, case.type)} · {reason}", deadline_at=case.deadline_at,
            basis=case.deadline_basis, is_urgent=overdue, area="cases"))
    return found


PROVIDER = register(WorkProvider("cases", _counts, _items, order=20))
