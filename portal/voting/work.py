"""The referendums' work provider (``portal.work``): results to approve and publish
(Art. 20(9)-(10), 21) and a trustee's decryption of the tally (Art. 20(4)-(6)). The law's steps
on a referendum's timeline are the cases area's (``portal.cases.work``)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext, ngettext
from sqlalchemy import and_, exists, false, func, or_, select

from portal.permissions import Permission, municipalities_for
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.voting.models import Referendum, Stage, Trustee, TrusteeShare

RESULTS_BASIS = "Art. 20(9)-(10), 21"


def _referendums(ctx: WorkContext) -> Any:
    """Referendums whose results the person approves (their own commission's; CVK oversees
    but does not approve), or whose tally they still have to decrypt."""
    approving = sorted(municipalities_for(ctx.user, Permission.APPROVE_RESULTS) or ())
    share_missing = and_(
        Trustee.referendum_id == Referendum.id, Trustee.user_id == getattr(ctx.user, "id", -1),
        ~exists().where(TrusteeShare.referendum_id == Referendum.id,
                        TrusteeShare.trustee_position == Trustee.position))
    return select(Referendum).where(or_(
        and_(Referendum.stage == Stage.TALLIED.value,
             Referendum.municipality_id.in_(approving) if approving else false()),
        and_(Referendum.stage == Stage.COUNTING.value, exists().where(share_missing))))


def _counts(ctx: WorkContext) -> list[Count]:
    own = ctx.session.scalar(select(func.count()).select_from(
        _referendums(ctx).subquery())) or 0
    return [Count("voting.index", own, ngettext(
        "%(num)d awaiting you", "%(num)d awaiting you", own), is_urgent=True)]


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
            deadline_at=referendum.results_due_at, basis=RESULTS_BASIS,
            is_urgent=referendum.results_due_at < ctx.now, area="voting"))
    return found


PROVIDER = register(WorkProvider("voting", _counts, _items, order=40))
