"""The referendums' work provider (``portal.work``): steps the law requires by a deadline that
fall due soon on the referendums a person's commission manages (the Voter Register Law's steps,
Art. 14, 23-24), results to approve and publish (Art. 20(9)-(10), 21), and a trustee's
decryption of the tally (Art. 20(4)-(6))."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import and_, exists, false, func, or_, select

from portal.cases.labels import STEPS, label
from portal.permissions import Permission, municipalities_for
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.cases.models import Case, CaseEvent, CaseType, EventKind
from referendum_core.voting.models import Referendum, Stage, Trustee, TrusteeShare

# Steps shown from this long before their deadline (the law's steps are days to weeks apart).
STEP_HORIZON = timedelta(days=14)


def _municipal(user: Any, permission: Permission) -> list[int]:
    """Municipalities where ``user`` holds ``permission`` for a commission (CVK's national
    oversight takes none of the commissions' steps)."""
    found = municipalities_for(user, permission)
    return sorted(found) if found else []


def _steps(ctx: WorkContext) -> Any:
    munis = _municipal(ctx.user, Permission.MANAGE_REFERENDUM)
    return (select(CaseEvent, Case).join(Case, Case.id == CaseEvent.case_id).where(
        Case.type == CaseType.REFERENDUM.value, CaseEvent.kind == EventKind.STEP.value,
        Case.municipality_id.in_(munis) if munis else false(),
        CaseEvent.deadline_at >= ctx.now, CaseEvent.deadline_at < ctx.now + STEP_HORIZON))


def _referendums(ctx: WorkContext) -> Any:
    """Referendums whose results the person approves, or whose tally they decrypt."""
    approving = _municipal(ctx.user, Permission.APPROVE_RESULTS)
    share_missing = and_(
        Trustee.referendum_id == Referendum.id, Trustee.user_id == getattr(ctx.user, "id", -1),
        ~exists().where(TrusteeShare.referendum_id == Referendum.id,
                        TrusteeShare.trustee_position == Trustee.position))
    return select(Referendum).where(or_(
        and_(Referendum.stage == Stage.TALLIED.value,
             Referendum.municipality_id.in_(approving) if approving else false()),
        and_(Referendum.stage == Stage.COUNTING.value, exists().where(share_missing))))


def _counts(ctx: WorkContext) -> list[Count]:
    steps = ctx.session.scalar(select(func.count()).select_from(_steps(ctx).subquery())) or 0
    own = ctx.session.scalar(select(func.count()).select_from(
        _referendums(ctx).subquery())) or 0
    return [Count("voting.index", own, ngettext(
        "%(num)d awaiting you", "%(num)d awaiting you", own), is_urgent=True),
        Count("voting.index", steps, ngettext(
            "%(num)d step due", "%(num)d steps due", steps))]


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    found = []
    for referendum in ctx.session.scalars(_referendums(ctx).limit(limit)):
        tallied = referendum.stage == Stage.TALLIED
        found.append(WorkItem(
            title=referendum.question(ctx.locale),
            url=url_for("voting_admin.manage" if tallied else "voting_admin.trustee",
                        referendum_id=referendum.id),
            reason=gettext("Approve and publish the results") if tallied
            else gettext("Decrypt the tally as a trustee"),
            deadline_at=referendum.results_due_at, basis="Art. 20(9)-(10), 21",
            is_urgent=referendum.results_due_at < ctx.now, area="voting"))
    rows = ctx.session.execute(_steps(ctx).order_by(CaseEvent.deadline_at).limit(limit)).all()
    for event, case in rows:
        data = event.data_dict
        found.append(WorkItem(
            title=f"{case.reference}: {case.title}",
            url=url_for("cases.case_page", case_id=case.id) + "#timeline",
            reason=gettext("Step required by law: %(step)s",
                           step=label(STEPS, data.get("step"))),
            deadline_at=event.deadline_at, basis=data.get("basis"), area="voting"))
    return found


PROVIDER = register(WorkProvider("voting", _counts, _items, order=40))
