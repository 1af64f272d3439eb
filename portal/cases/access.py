"""Who may see a case and which parties a person acts as for it.

Access rule:

* CVK officials see every case;
* commission officials see the cases of their commission's municipality (a member of another
  municipality's commission gets 404, so a case's existence is not disclosed);
* everybody else (observers, voters, initiators) sees only the cases they filed. Observers do
  not see other observers' reports even in their accredited municipality: reports name people
  and places, and an observer's accreditation is to observe, not to read others' files.

Views, the API and exports load cases only through ``access_case``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.permissions import (
    Permission,
    Scope,
    has_permission,
    is_standing_observer,
    municipalities_for,
    require,
)
from portal.realtime import as_id
from referendum_core.cases.exceptions import ReferendumNotChosen
from referendum_core.cases.models import Case
from referendum_core.cases.queries import Visibility
from referendum_core.cases.workflows import Party
from referendum_core.clock import to_riga
from referendum_core.observers import nearest_first, observation_rights
from referendum_core.organisation import PollingStation
from referendum_core.voting.models import Referendum, Stage


def scope_of(case: Case) -> Scope:
    return Scope(municipality_id=case.municipality_id, case_id=case.id)


def parties_for(user: Any, case: Case) -> frozenset[Party]:
    """The workflow parties ``user`` acts as for ``case``."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    scope = scope_of(case)
    parties = set()
    if case.created_by_id is not None and case.created_by_id == user.id:
        parties.add(Party.REQUESTER)
    if case.municipality_id is not None and has_permission(
            user, Permission.HANDLE_COMMISSION_CASES, scope):
        parties.add(Party.COMMISSION)
        if has_permission(user, Permission.DECIDE_CASES, scope):
            parties.add(Party.CHAIR)
    if has_permission(user, Permission.HANDLE_CVK_CASES, scope):
        parties.add(Party.CVK)
    return frozenset(parties)


def can_see(user: Any, case: Case, permission: Permission = Permission.VIEW_CASES) -> bool:
    """May ``user`` see ``case`` (with ``permission`` in its scope, or as the one who filed it)?"""
    if case.created_by_id is not None and case.created_by_id == getattr(user, "id", None) \
            and permission == Permission.VIEW_CASES:
        return True
    return has_permission(user, permission, scope_of(case))


def access_case(session: Session, actor: Any, case_id: int, permission: Permission) -> Case:
    """Load a case ``actor`` holds ``permission`` for (``VIEW_CASES``: may see, as an official
    of its scope or as the one who filed it); 401 when signed out, 404 when absent or not
    theirs."""
    if not getattr(actor, "is_authenticated", False):
        require(permission, user=actor)
    case = session.get(Case, case_id) if as_id(case_id) is not None else None
    if case is None or not can_see(actor, case, permission):
        abort(404)
    return case


def visibility_for(user: Any) -> Visibility:
    """The part of the work queue ``user`` may list."""
    municipalities = municipalities_for(user, Permission.VIEW_CASES)
    return Visibility(None if municipalities is None else frozenset(municipalities),
                      own_user_id=getattr(user, "id", None))


def accreditation_check(session: Session, user: Any, at: datetime,
                        referendum_id: int | None) -> Any:
    """``is_accredited(station)`` for an observer filing a report for ``referendum_id``: the
    observer's membership covers the station's municipality, and the station is one they
    observe in that referendum at ``at`` (``observers.observation_rights``: Art. 18(3), the
    initiators authorise observers per polling station; Art. 20(3), for the referendum's
    days). A report that belongs to no referendum (none is under way) is a standing observer's
    only: an accreditation is to one referendum."""
    def is_accredited(station: PollingStation) -> bool:
        if not has_permission(user, Permission.FILE_OBSERVER_REPORT,
                              Scope(municipality_id=station.municipality_id)):
            return False
        standing = is_standing_observer(user, station.municipality_id)
        referendum = session.get(Referendum, referendum_id) if referendum_id else None
        if referendum is None:
            return referendum_id is None and standing
        stations = observation_rights(session, user.id, referendum, at, standing=standing)
        return stations is None or station.id in stations
    return is_accredited


def report_options(session: Session, user: Any, at: datetime
                   ) -> list[tuple[Referendum | None, list[PollingStation]]]:
    """What ``user`` may report on at ``at``: each referendum under way with the polling
    stations they observe in it (``observers.observation_rights``: Art. 18(3), per station;
    Art. 20(3), for the referendum's days), and, for each municipality where they are a
    standing observer and no referendum is under way, ``None`` (a report of no referendum)
    with the municipality's stations. The report form offers these and filing applies them
    (``referendum_for_report``), so the page never offers what filing refuses."""
    own = municipalities_for(user, Permission.FILE_OBSERVER_REPORT)
    stmt = select(Referendum).where(Referendum.stage != Stage.APPROVED)
    if own is not None:
        stmt = stmt.where(Referendum.municipality_id.in_(sorted(own)))
    options: list[tuple[Referendum | None, list[PollingStation]]] = []
    under_way: set[int] = set()
    for referendum in nearest_first(session.scalars(stmt), to_riga(at).date()):
        under_way.add(referendum.municipality_id)
        rights = observation_rights(
            session, user.id, referendum, at,
            standing=is_standing_observer(user, referendum.municipality_id))
        if rights == set():
            continue
        where = (PollingStation.municipality_id == referendum.municipality_id if rights is None
                 else PollingStation.id.in_(sorted(rights)))
        options.append((referendum, list(session.scalars(select(PollingStation).where(
            where).order_by(PollingStation.number)))))
    idle = sorted(m for m in (own or ()) if m not in under_way
                  and is_standing_observer(user, m))
    if idle:
        options.append((None, list(session.scalars(select(PollingStation).where(or_(
            *(PollingStation.municipality_id == m for m in idle)))
            .order_by(PollingStation.municipality_id, PollingStation.number)))))
    return options


def referendum_for_report(session: Session, user: Any, at: datetime, station: PollingStation,
                          referendum_id: int | None) -> tuple[int | None, bool]:
    """The referendum a report of ``user`` at ``station`` belongs to, and whether they may
    report there, by the rule the report form offers (``report_options``): the referendum
    named, if they may report at the station in it; with none named, the one referendum (or
    the one report of no referendum) open to them at the station.

    Raises:
        ReferendumNotChosen: none named while several referendums are open to them there.
    """
    open_here = [r.id if r is not None else None for r, stations in
                 report_options(session, user, at) if any(s.id == station.id for s in stations)]
    if referendum_id is not None:
        return referendum_id, referendum_id in open_here
    if len(open_here) > 1:
        raise ReferendumNotChosen("several referendums are open to the observer; name one")
    return (open_here[0], True) if open_here else (None, False)


def may_work(user: Any, case: Case) -> bool:
    """Could ``user`` be assigned ``case`` (an official of its commission, or of CVK)?"""
    return bool({Party.COMMISSION, Party.CVK} & parties_for(user, case))
