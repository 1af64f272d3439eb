"""A voter's own work in the initiatives (``portal.work``): an initiative she may sign is
collecting signatures and she has not signed it (Art. 10(8), 11(1)). Listed on her home page
with the collection's last day; nothing is counted beside the navigation, so a voter's every
page costs no query for it.

She may sign an initiative of a municipality whose voter she is now (Art. 7, as the signing
service checks, ``referendum_core.signatures.sign_online``)."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext
from sqlalchemy import exists, select

from portal.dates import day_text
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.cases.models import Case
from referendum_core.clock import to_riga
from referendum_core.initiatives import Initiative
from referendum_core.register import eligibility
from referendum_core.signatures import Signature

COLLECTION_BASIS = "Art. 10(8)"


def open_to_sign(ctx: WorkContext, limit: int) -> list[Initiative]:
    """Initiatives collecting now that the person may sign and has not signed (online or on
    paper), the soonest to close first."""
    person_ref = getattr(ctx.user, "person_ref", None)
    if not person_ref:
        return []
    signed = exists().where(Signature.initiative_id == Initiative.id,
                            Signature.person_ref == person_ref)
    stmt = (select(Initiative).join(Case, Case.id == Initiative.case_id)
            .where(Case.state == "collecting", Initiative.collection_starts_at <= ctx.now,
                   Initiative.collection_ends_at > ctx.now, ~signed)
            .order_by(Initiative.collection_ends_at, Initiative.id))
    today = to_riga(ctx.now).date()
    may_sign: dict[int, bool] = {}
    found = []
    for initiative in ctx.session.scalars(stmt):
        municipality_id = initiative.municipality_id
        if municipality_id not in may_sign:
            may_sign[municipality_id] = eligibility(ctx.session, person_ref, municipality_id,
                                                    today).is_eligible
        if may_sign[municipality_id]:
            found.append(initiative)
            if len(found) >= limit:
                break
    return found


def _counts(ctx: WorkContext) -> list[Count]:
    return []


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    return [WorkItem(
        title=f"{initiative.case.reference}: {initiative.question}",
        url=url_for("initiatives.show", initiative_id=initiative.id),
        reason=gettext("The initiative collects signatures up to and including %(end)s",
                       end=day_text(initiative.collection_last_day)),
        deadline_at=initiative.collection_ends_at, basis=COLLECTION_BASIS, area="initiatives")
        for initiative in open_to_sign(ctx, limit)]


PROVIDER: Any = register(WorkProvider("initiatives_voter", _counts, _items, order=35))
