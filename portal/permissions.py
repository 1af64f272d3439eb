"""Every permission, named once, and the one helper that checks them.

A permission is granted by a role and holds within a scope: CVK roles cover the whole country,
commission roles their commission's municipality, observers the municipality or the single
referendum (case) they are accredited to, voters only their own affairs. A membership may hold
only for a time (an accredited observer's: the referendum's days); it is checked against the
app's injected clock. A membership without
a municipality (the internet polling-station commission's) holds a permission everywhere only
when that permission is declared in ``NATIONAL_PERMISSIONS``; otherwise no scope means no right.
Views, API routes and Socket.IO handlers all call ``has_permission`` / ``require`` (directly or
through an ``access_*`` loader), never test roles themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, has_app_context
from flask_login import current_user
from werkzeug.exceptions import Forbidden, Unauthorized

from portal.accounts.models import CVK_ROLES, Role


class Permission(StrEnum):
    VIEW_AUDIT_LOG = "view_audit_log"
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    VIEW_MUNICIPALITY = "view_municipality"
    MANAGE_POLLING_STATIONS = "manage_polling_stations"
    VIEW_CASES = "view_cases"
    WORK_CASES = "work_cases"
    FILE_OBSERVER_REPORT = "file_observer_report"
    FILE_COMPLAINT = "file_complaint"
    EXPORT_CASES = "export_cases"
    VIEW_DASHBOARD = "view_dashboard"
    MESSAGE_CVK = "message_cvk"
    MESSAGE_COMMISSION = "message_commission"
    MESSAGE_ANYONE = "message_anyone"
    MANAGE_REGISTER = "manage_register"
    LOOKUP_VOTER = "lookup_voter"
    MARK_VOTED = "mark_voted"
    REGISTER_SIGNATURES = "register_signatures"
    DECIDE_INITIATIVE = "decide_initiative"
    MANAGE_REFERENDUM = "manage_referendum"
    ENTER_PROTOCOL = "enter_protocol"
    CONFIRM_PROTOCOL = "confirm_protocol"
    APPROVE_RESULTS = "approve_results"
    ACT_AS_TRUSTEE = "act_as_trustee"
    VIEW_LIVE_TURNOUT = "view_live_turnout"
    SIGN_INITIATIVE = "sign_initiative"
    SUBMIT_INITIATIVE = "submit_initiative"
    VOTE = "vote"
    # Cases: act for the municipal commission on its cases / decide for it (chair) / act for
    # CVK on cases addressed to it; issue API tokens for municipal systems.
    HANDLE_COMMISSION_CASES = "handle_commission_cases"
    DECIDE_CASES = "decide_cases"
    HANDLE_CVK_CASES = "handle_cvk_cases"
    MANAGE_SERVICE_TOKENS = "manage_service_tokens"
    # The audit log's signed checkpoints (seq, head, time; no entry's content): CVK and
    # observers keep copies so that a rewritten log can be shown to be one.
    DOWNLOAD_AUDIT_CHECKPOINTS = "download_audit_checkpoints"
    # Observers (Art. 18(3), 20(3)): the initiators name theirs (whether this person is the
    # initiator is the referendum's own question); the municipality's commission decides on
    # their requests; it records its members and the media, CVK its members (both accredit);
    # both read the polling-station table.
    REQUEST_OBSERVER_ACCREDITATION = "request_observer_accreditation"
    DECIDE_OBSERVER_ACCREDITATION = "decide_observer_accreditation"
    ACCREDIT_OBSERVERS = "accredit_observers"
    VIEW_STATION_TABLE = "view_station_table"
    # Observers fill in the polling-station checklists (and send reports from the observer
    # app); commissions and CVK follow the answers, conflicts and critical reports live.
    FILL_CHECKLIST = "fill_checklist"
    VIEW_OBSERVATIONS = "view_observations"
    # The living demo's clock (only where one is configured): the officials who run the vote
    # move it between online voting and referendum day; visitors, voters and observers only
    # read the simulated date in the banner.
    MOVE_DEMO_CLOCK = "move_demo_clock"


P = Permission
_COMMISSION = {
    P.HANDLE_COMMISSION_CASES, P.DECIDE_OBSERVER_ACCREDITATION,
    P.VIEW_MUNICIPALITY, P.VIEW_CASES, P.WORK_CASES, P.MESSAGE_CVK, P.MESSAGE_COMMISSION,
    P.LOOKUP_VOTER, P.MARK_VOTED, P.REGISTER_SIGNATURES, P.ENTER_PROTOCOL, P.CONFIRM_PROTOCOL,
    P.VIEW_LIVE_TURNOUT, P.ACCREDIT_OBSERVERS, P.VIEW_STATION_TABLE,
    P.REQUEST_OBSERVER_ACCREDITATION, P.VIEW_OBSERVATIONS, P.MOVE_DEMO_CLOCK,
}
# Art. 20(4)-(6): the internet polling-station commission counts the online votes; its members
# chosen as a referendum's trustees hold the key shares and decrypt the tally, whose result is
# its protocol (published in the election record). It reads no case, voter or turnout figure.
_INTERNET_COMMISSION = {P.ACT_AS_TRUSTEE}
_CVK_OFFICER = {
    P.HANDLE_CVK_CASES,
    P.VIEW_MUNICIPALITY, P.VIEW_CASES, P.WORK_CASES, P.EXPORT_CASES, P.VIEW_DASHBOARD,
    P.MESSAGE_CVK, P.MESSAGE_COMMISSION, P.MESSAGE_ANYONE, P.VIEW_LIVE_TURNOUT,
    P.DOWNLOAD_AUDIT_CHECKPOINTS, P.ACCREDIT_OBSERVERS, P.VIEW_STATION_TABLE,
    P.VIEW_OBSERVATIONS, P.MOVE_DEMO_CLOCK,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CVK_ADMIN: frozenset(_CVK_OFFICER | {
        P.MANAGE_SERVICE_TOKENS,
        P.VIEW_AUDIT_LOG, P.MANAGE_USERS, P.MANAGE_ORGANISATIONS, P.MANAGE_POLLING_STATIONS,
        P.MANAGE_REFERENDUM, P.MANAGE_REGISTER,
    }),
    Role.CVK_OFFICER: frozenset(_CVK_OFFICER),
    Role.COMMISSION_CHAIR: frozenset(_COMMISSION | {
        P.DECIDE_CASES,
        P.MANAGE_POLLING_STATIONS, P.MANAGE_REGISTER, P.DECIDE_INITIATIVE, P.MANAGE_REFERENDUM,
        P.APPROVE_RESULTS,
    }),
    Role.COMMISSION_MEMBER: frozenset(_COMMISSION),
    Role.INTERNET_COMMISSION_CHAIR: frozenset(_INTERNET_COMMISSION),
    Role.INTERNET_COMMISSION_MEMBER: frozenset(_INTERNET_COMMISSION),
    Role.OBSERVER: frozenset({
        P.VIEW_MUNICIPALITY, P.FILE_OBSERVER_REPORT, P.FILE_COMPLAINT, P.MESSAGE_CVK,
        P.MESSAGE_COMMISSION, P.VIEW_LIVE_TURNOUT, P.DOWNLOAD_AUDIT_CHECKPOINTS,
        P.FILL_CHECKLIST,
    }),
    Role.VOTER: frozenset({
        P.SIGN_INITIATIVE, P.SUBMIT_INITIATIVE, P.VOTE, P.FILE_COMPLAINT, P.MESSAGE_COMMISSION,
        P.REQUEST_OBSERVER_ACCREDITATION,
    }),
}

# The permissions a membership without a municipality holds for every municipality. Acting as
# a trustee is national because the internet commission serves every municipality's referendum;
# who is a trustee of which referendum is then the referendum's own list (``trustee_of``).
NATIONAL_PERMISSIONS: frozenset[Permission] = frozenset({P.ACT_AS_TRUSTEE})


@dataclass(frozen=True)
class Scope:
    """What an action concerns. ``None`` fields mean "not about a particular one"."""

    municipality_id: int | None = None
    case_id: int | None = None


NATIONAL = Scope()


def _now() -> datetime | None:
    """The app's injected clock, for memberships that hold only for a time (None outside an
    app: such a membership then grants nothing)."""
    if not has_app_context():
        return None
    return current_app.extensions["clock"].now()


def _holds_now(membership: Any) -> bool:
    if not getattr(membership, "is_time_limited", False):
        return True
    return bool(membership.holds_at(_now()))


def _membership_covers(membership: Any, permission: Permission, scope: Scope) -> bool:
    """Does ``membership`` (whose role grants ``permission``) reach ``scope``? ``NATIONAL``
    asks "anywhere": somewhere within the membership's own scope."""
    if not _holds_now(membership):
        return False
    if membership.role in CVK_ROLES:
        return True
    own = membership.scope_municipality_id
    if own is None and membership.case_id is None:
        # No municipality and no case: only what is declared national, and that everywhere.
        return permission in NATIONAL_PERMISSIONS
    if scope == NATIONAL:
        return True
    if membership.role == Role.OBSERVER and membership.case_id is not None:
        return scope.case_id is not None and scope.case_id == membership.case_id
    return scope.municipality_id is not None and scope.municipality_id == own


def has_permission(user: Any, permission: Permission, scope: Scope = NATIONAL) -> bool:
    """Does ``user`` hold ``permission`` for ``scope``? Anonymous users hold nothing.

    A scope without a municipality or case asks "anywhere": a commission member may open the
    list of cases (filtered to their municipality later) but a scoped question is answered only
    for their own municipality. A membership with no municipality or case holds only
    ``NATIONAL_PERMISSIONS``, for either question.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    # Voter rights are personal: which municipality a voter may act in (eligibility, Art. 7)
    # is a register question the domain services answer.
    if user.person_ref and permission in ROLE_PERMISSIONS[Role.VOTER]:
        return True
    for membership in user.memberships:
        if permission not in ROLE_PERMISSIONS.get(membership.role, frozenset()):
            continue
        if _membership_covers(membership, permission, scope):
            return True
    return False


def municipalities_for(user: Any, permission: Permission) -> set[int] | None:
    """Municipality ids where ``user`` holds ``permission``; ``None`` means all of them."""
    found: set[int] = set()
    if user is None or not getattr(user, "is_authenticated", False):
        return found
    for membership in user.memberships:
        if permission not in ROLE_PERMISSIONS.get(membership.role, frozenset()):
            continue
        if not _holds_now(membership):
            continue
        if membership.role in CVK_ROLES:
            return None
        if membership.role == Role.OBSERVER and membership.case_id is not None:
            continue  # accredited to one case, not to its municipality (``_membership_covers``)
        own = membership.scope_municipality_id
        if own is not None:
            found.add(own)
        elif membership.case_id is None and permission in NATIONAL_PERMISSIONS:
            return None
    return found


def is_standing_observer(user: Any, municipality_id: int) -> bool:
    """Is ``user`` an observer of the municipality appointed under People and roles (a
    membership without an end, not the time-limited one an accreditation gives)? What such an
    observer observes is decided per referendum (``observers.observation_rights``)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return any(m.role == Role.OBSERVER and not getattr(m, "is_time_limited", False)
               and m.case_id is None and m.scope_municipality_id == municipality_id
               for m in user.memberships)


def require(permission: Permission, scope: Scope = NATIONAL, user: Any = None) -> None:
    """Raise 401 for anonymous users and 403 when the permission is missing."""
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if not has_permission(user, permission, scope):
        raise Forbidden()


F = TypeVar("F", bound=Callable[..., Any])


def permission_required(permission: Permission) -> Callable[[F], F]:
    """View decorator for views not about one object (object views use ``access_*`` loaders)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(permission)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
