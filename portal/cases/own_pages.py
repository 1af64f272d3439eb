"""Cases whose steps are taken on a page of their own: an initiative's decision (Art. 10(4)),
application and check on the initiative's page; a referendum's stages on its page. The case
page links there (its workflow does not offer those moves: ``Transition.made_by``)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.permissions import Permission, Scope, has_permission
from referendum_core.cases.models import Case, CaseType
from referendum_core.initiatives import Initiative
from referendum_core.voting.models import Referendum


@dataclass(frozen=True)
class OwnPage:
    url: str
    label: str


def own_page(session: Session, case: Case) -> OwnPage | None:
    """Where ``case``'s steps are taken, for the signed-in person (``None``: on the case page)."""
    scope = Scope(case.municipality_id, case.id)
    if case.type == CaseType.INITIATIVE:
        initiative_id = session.scalar(select(Initiative.id).where(
            Initiative.case_id == case.id))
        if initiative_id is None:
            return None
        url = url_for("initiatives.show", initiative_id=initiative_id)
        if case.state == "submitted" and has_permission(
                current_user, Permission.DECIDE_INITIATIVE, scope):
            return OwnPage(url + "#decide", gettext(
                "Decide on the initiative: can the referendum be held? (Art. 10(4))"))
        return OwnPage(url, gettext("Open the initiative's page (decision, signatures, check)"))
    if case.type == CaseType.REFERENDUM:
        referendum_id = session.scalar(select(Referendum.id).where(Referendum.case_id == case.id))
        if referendum_id is None:
            return None
        if has_permission(current_user, Permission.MANAGE_REFERENDUM, scope):
            return OwnPage(url_for("voting_admin.manage", referendum_id=referendum_id),
                           gettext("Manage the referendum (its stages and results)"))
        return OwnPage(url_for("voting.vote", referendum_id=referendum_id),
                       gettext("Open the referendum's page"))
    return None
