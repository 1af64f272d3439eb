"""The referendums' work provider (``portal.work``): each step a referendum waits for, as its
manage page says (``portal.voting.status.waiting_steps``), listed for whoever takes it with its
deadline — the commission chooses the trustees, opens the vote and, after 20:00 on referendum
day, closes the polls (Art. 15(1), 16(1), 20(6)); each chosen trustee uploads a public key
before the online vote opens and decrypts the tally (Art. 20(4)-(6)); the stations' protocols
are confirmed and the registration envelopes checked (Art. 20(9)-(10), 29-30); then, and only
then, the chair approves and publishes the results (Art. 21). The law's steps on a
referendum's timeline are the cases area's (``portal.cases.work``)."""
from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import exists, false, or_, select

from portal.permissions import Permission, municipalities_for
from portal.voting.status import (
    APPROVER,
    COMMISSION,
    PROTOCOLS,
    TRUSTEES,
    WaitingStep,
    waiting_steps,
)
from portal.work import Count, WorkContext, WorkItem, WorkProvider, register
from referendum_core.voting.models import Referendum, Stage, Trustee

RESULTS_BASIS = "Art. 20(9)-(10), 21"
# Referendums looked at per person: a commission has one or two under way at a time.
MAX_REFERENDUMS = 20

# What each step asks, the page where it is taken, and the rule its deadline comes from.
STEPS: dict[str, tuple[Any, str, str]] = {
    "choose_trustees": (_l("Choose the trustees"), "voting_admin.manage", "Art. 20(6)"),
    "upload_key": (_l("Upload your public key as a trustee"), "voting_admin.trustee",
                   "Art. 20(6)"),
    "open": (_l("Open the vote"), "voting_admin.manage", "Art. 15(1)"),
    "close": (_l("Close the polls"), "voting_admin.manage", "Art. 16(1)"),
    "protocols": (_l("Enter and confirm the polling stations' protocols"),
                  "voting_admin.protocols", "Art. 20(9)-(10)"),
    "reconcile": (_l("Check registration envelopes against the voter register"),
                  "voting_admin.manage", "Art. 4(6), 29-30"),
    "decrypt": (_l("Decrypt the tally as a trustee"), "voting_admin.trustee", "Art. 20(4)-(6)"),
    "approve": (_l("Approve and publish the results"), "voting_admin.manage", RESULTS_BASIS),
}


def _munis(ctx: WorkContext, permission: Permission) -> set[int]:
    # CVK's national oversight (None: everywhere) takes none of the commissions' steps.
    return municipalities_for(ctx.user, permission) or set()


def _steps(ctx: WorkContext) -> list[tuple[Referendum, WaitingStep]]:
    """The steps waiting for the person on the referendums under way they act on (worked
    out once per request: the count and the home page's list ask for the same)."""
    if "voting_work_steps" not in g:
        g.voting_work_steps = _find_steps(ctx)
    return list(g.voting_work_steps)


def _find_steps(ctx: WorkContext) -> list[tuple[Referendum, WaitingStep]]:
    parties = {COMMISSION: _munis(ctx, Permission.MANAGE_REFERENDUM),
               PROTOCOLS: _munis(ctx, Permission.CONFIRM_PROTOCOL),
               APPROVER: _munis(ctx, Permission.APPROVE_RESULTS)}
    munis = sorted(set().union(*parties.values()))
    user_id = getattr(ctx.user, "id", -1)
    is_trustee = exists().where(Trustee.referendum_id == Referendum.id,
                                Trustee.user_id == user_id)
    found = []
    for referendum in ctx.session.scalars(select(Referendum).where(
            Referendum.stage != Stage.APPROVED.value,
            or_(Referendum.municipality_id.in_(munis) if munis else false(), is_trustee))
            .order_by(Referendum.id).limit(MAX_REFERENDUMS)):
        for step in waiting_steps(ctx.session, referendum, ctx.now):
            if (user_id in step.user_ids if step.party == TRUSTEES
                    else referendum.municipality_id in parties[step.party]):
                found.append((referendum, step))
    return found


def _counts(ctx: WorkContext) -> list[Count]:
    own = len(_steps(ctx))
    return [Count("voting.index", own, ngettext(
        "%(num)d awaiting you", "%(num)d awaiting you", own), is_urgent=True)]


def _items(ctx: WorkContext, limit: int) -> list[WorkItem]:
    found = []
    for referendum, step in _steps(ctx)[:limit]:
        reason, endpoint, basis = STEPS[step.kind]
        found.append(WorkItem(
            title=referendum.question(ctx.locale),
            url=url_for(endpoint, referendum_id=referendum.id), reason=str(reason),
            deadline_at=step.deadline_at, basis=basis, is_urgent=step.is_urgent,
            area="voting"))
    return found


PROVIDER = register(WorkProvider("voting", _counts, _items, order=40))
