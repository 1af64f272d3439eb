"""A voter's own work in the referendums (``portal.work``): online voting is open and she has
not voted (Art. 15(1)). Listed on her home page with its end; nothing is counted beside the
navigation, so a voter's every page costs no query for it.

A voter may vote online while the window is open if she is on the referendum's voter list
(Art. 7(2)) and has not voted at a polling station (Art. 20(5)); once a ballot of hers is on
the board the item goes (she may still vote again: that is her choice, not work waiting)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext
from sqlalchemy import exists, select

from portal.dates import day_text, moment_text
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.clock import to_riga
from referendum_core.voting.eligibility import standing_columns
from referendum_core.voting.models import BoardEntry, Referendum, Stage

ONLINE_VOTING_BASIS = "Art. 15(1)"


def open_to_vote_online(ctx: WorkContext, limit: int) -> list[Referendum]:
    """Referendums whose online voting is open now in which the person may vote online and has
    not yet: one statement."""
    person_ref = getattr(ctx.user, "person_ref", None)
    if not person_ref:
        return []
    listed, in_person, alias = standing_columns(Referendum.case_id, Referendum.id, person_ref)
    voted_online = exists().where(BoardEntry.referendum_id == Referendum.id,
                                  BoardEntry.alias == alias)
    stmt = (select(Referendum)
            .where(Referendum.stage == Stage.VOTING.value,
                   Referendum.online_opens_at <= ctx.now, Referendum.online_closes_at > ctx.now,
                   listed, ~in_person, ~voted_online)
            .order_by(Referendum.online_closes_at, Referendum.id).limit(limit))
    return [r for r in ctx.session.scalars(stmt) if r.has_online_voting]


def _open_until(closes_at: datetime) -> str:
    """Until when online voting is open: a window closing at midnight (Riga time, as the law's
    Monday-to-Wednesday window does) is said as its last day "inclusive", not as 00:00 of the
    next day."""
    riga = to_riga(closes_at)
    if riga.time() == time(0, 0):
        return gettext("Online voting is open up to and including %(end)s",
                       end=day_text(riga.date() - timedelta(days=1)))
    return gettext("Online voting is open until %(end)s",
                   end=moment_text(closes_at))


def _counts(ctx: WorkContext) -> list[Count]:
    return []


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    return [WorkItem(
        title=referendum.question(ctx.locale),
        url=url_for("voting.vote", referendum_id=referendum.id),
        reason=_open_until(referendum.online_closes_at),
        deadline_at=referendum.online_closes_at, basis=ONLINE_VOTING_BASIS, area="voting")
        for referendum in open_to_vote_online(ctx, limit)]


PROVIDER: Any = register(WorkProvider("voting_voter", _counts, _items, order=45))
