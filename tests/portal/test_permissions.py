"""Each role's access, allowed and refused, against role AND municipality."""
from __future__ import annotations

import pytest

from portal.accounts.models import Role
from portal.permissions import (
    NATIONAL_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    Scope,
    has_permission,
    municipalities_for,
)
from referendum_core.organisation import CommissionKind, get_commission
from tests.conftest import municipality

ADAZI, RIGA = "0023000", "0001000"


@pytest.fixture()
def munis(db_session):
    return {"adazi": municipality(db_session, ADAZI).id, "riga": municipality(db_session, RIGA).id}


def test_cvk_roles_cover_every_municipality(people, munis):
    officer = people.cvk_officer()
    for muni in munis.values():
        assert has_permission(officer, Permission.VIEW_CASES, Scope(municipality_id=muni))
    assert not has_permission(officer, Permission.VIEW_AUDIT_LOG)
    assert has_permission(people.cvk_admin(), Permission.VIEW_AUDIT_LOG)
    assert municipalities_for(officer, Permission.VIEW_CASES) is None


def test_commission_member_only_in_own_municipality(people, munis):
    member = people.member(ADAZI)
    assert has_permission(member, Permission.LOOKUP_VOTER, Scope(municipality_id=munis["adazi"]))
    assert not has_permission(member, Permission.LOOKUP_VOTER, Scope(municipality_id=munis["riga"]))
    assert not has_permission(member, Permission.APPROVE_RESULTS, Scope(municipality_id=munis["adazi"]))
    assert municipalities_for(member, Permission.VIEW_CASES) == {munis["adazi"]}


def test_chair_has_more_than_member_but_only_at_home(people, munis):
    chair = people.chair(ADAZI)
    assert has_permission(chair, Permission.APPROVE_RESULTS, Scope(municipality_id=munis["adazi"]))
    assert not has_permission(chair, Permission.APPROVE_RESULTS, Scope(municipality_id=munis["riga"]))
    assert not has_permission(chair, Permission.MANAGE_USERS)


def test_observer_accredited_to_municipality(people, munis):
    observer = people.observer(ADAZI)
    assert has_permission(observer, Permission.FILE_OBSERVER_REPORT, Scope(municipality_id=munis["adazi"]))
    assert not has_permission(observer, Permission.FILE_OBSERVER_REPORT,
                              Scope(municipality_id=munis["riga"]))
    assert not has_permission(observer, Permission.WORK_CASES, Scope(municipality_id=munis["adazi"]))


def test_observer_accredited_to_one_referendum(db_session, clock):
    from portal.accounts import services
    from referendum_core.cases.models import CaseType
    from referendum_core.cases.services import open_case

    # Membership.case_id references cases, so the referendum's case must exist.
    case = open_case(db_session, clock, None, case_type=CaseType.COMMISSION_QUERY,
                     title="Referendums", municipality_id=None)
    user = services.create_user(db_session, clock, None, email="o@example.lv", display_name="O",
                                password="long enough password")
    services.grant_membership(db_session, clock, None, user, Role.OBSERVER, case_id=case.id)
    assert has_permission(user, Permission.VIEW_LIVE_TURNOUT, Scope(case_id=case.id))
    assert not has_permission(user, Permission.VIEW_LIVE_TURNOUT, Scope(case_id=case.id + 1))
    assert not has_permission(user, Permission.VIEW_LIVE_TURNOUT, Scope(municipality_id=1))


def test_an_observer_accredited_to_one_case_lists_no_municipality(db_session, clock, munis):
    """A case-scoped accreditation reaches that case only: the lists built from
    ``municipalities_for`` agree with ``has_permission`` even when the membership also names
    the case's municipality."""
    from portal.accounts import services
    from referendum_core.cases.models import CaseType
    from referendum_core.cases.services import open_case

    case = open_case(db_session, clock, None, case_type=CaseType.COMMISSION_QUERY,
                     title="Referendum", municipality_id=munis["adazi"])
    user = services.create_user(db_session, clock, None, email="o2@example.lv",
                                display_name="O", password="long enough password")
    services.grant_membership(db_session, clock, None, user, Role.OBSERVER,
                              municipality_id=munis["adazi"], case_id=case.id)
    for permission in (Permission.VIEW_CASES, Permission.FILE_OBSERVER_REPORT):
        assert not has_permission(user, permission, Scope(municipality_id=munis["adazi"]))
        assert municipalities_for(user, permission) == set()


def test_voter_rights_are_personal(people):
    voter = people.voter()
    assert has_permission(voter, Permission.SIGN_INITIATIVE)
    assert has_permission(voter, Permission.VOTE)
    assert not has_permission(voter, Permission.VIEW_CASES)
    assert not has_permission(voter, Permission.LOOKUP_VOTER)


def test_anonymous_holds_nothing():
    from flask_login import AnonymousUserMixin

    for permission in Permission:
        assert not has_permission(AnonymousUserMixin(), permission)
        assert not has_permission(None, permission)


def test_inactive_user_holds_nothing(people):
    admin = people.cvk_admin()
    admin.is_active = False
    assert not has_permission(admin, Permission.VIEW_AUDIT_LOG)


def test_every_permission_is_granted_to_some_role():
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)


ROUTES = [  # (method, path, who may, status for others)
    ("GET", "/audit/", {"cvk_admin"}),
    ("GET", "/admin/users", {"cvk_admin"}),
    ("GET", "/account", {"cvk_admin", "cvk_officer", "chair", "member", "observer", "voter"}),
]


@pytest.mark.parametrize("method,path,allowed", ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "voter", "observer", "member", "chair",
                                  "cvk_officer", "cvk_admin"])
def test_route_access_by_role(client, people, login_as, method, path, allowed, role):
    if role != "anonymous":
        login_as(getattr(people, role)())
    response = client.open(path, method=method)
    if role in allowed:
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403


def test_navigation_adapts_to_role(client, people, login_as):
    login_as(people.member())
    html = client.get("/").get_data(as_text=True)
    assert "/audit/" not in html and "/admin/users" not in html
    assert "Komisijas loceklis" in html and "Ādažu novada vēlēšanu komisija" in html
    client.post("/logout")
    login_as(people.cvk_admin())
    html = client.get("/").get_data(as_text=True)
    assert "/audit/" in html and "/admin/users" in html


def test_art20_internet_commission_holds_only_the_trustee_work_everywhere(people, munis):
    """Art. 20(4)-(6): the internet polling-station commission counts the online votes; with no
    municipality of its own it holds only what is declared national, in every municipality."""
    for user in (people.internet_member(), people.internet_chair()):
        for muni in munis.values():
            scope = Scope(municipality_id=muni, case_id=1)
            held = {p for p in Permission if has_permission(user, p, scope)}
            assert held == {Permission.ACT_AS_TRUSTEE}
        assert municipalities_for(user, Permission.VIEW_CASES) == set()
        assert municipalities_for(user, Permission.ACT_AS_TRUSTEE) is None


def test_no_municipality_means_no_right_unless_the_permission_is_national(
        db_session, clock, people, munis):
    """A membership without a municipality (here a municipal role in the internet commission,
    which ``grant_membership`` no longer gives) widens nothing that is not declared national."""
    from portal.accounts.models import Membership

    user = people.internet_member()
    user.memberships.append(Membership(
        role=Role.COMMISSION_CHAIR, created_at=clock.now(),
        commission=get_commission(db_session, CommissionKind.INTERNET)))
    db_session.flush()
    scope = Scope(municipality_id=munis["adazi"])
    for permission in set(Permission) - NATIONAL_PERMISSIONS:
        assert not has_permission(user, permission, scope), permission
        assert municipalities_for(user, permission) == set(), permission


def test_national_permissions_are_declared_and_held_by_no_municipal_role():
    assert NATIONAL_PERMISSIONS == {Permission.ACT_AS_TRUSTEE}
    for role in (Role.COMMISSION_CHAIR, Role.COMMISSION_MEMBER, Role.OBSERVER):
        assert not ROLE_PERMISSIONS[role] & NATIONAL_PERMISSIONS, role


def test_art20_6_internet_commission_roles_only_in_the_internet_commission(db_session, clock):
    """Municipal commission roles are not given in the internet commission, nor its roles in a
    municipal one (each would read as another commission's rights)."""
    from portal.accounts import services

    user = services.create_user(db_session, clock, None, email="i@example.lv", display_name="I",
                                password=None)
    internet = get_commission(db_session, CommissionKind.INTERNET)
    municipal = get_commission(db_session, CommissionKind.MUNICIPAL,
                               municipality(db_session, ADAZI).id)
    for role, commission in ((Role.COMMISSION_MEMBER, internet),
                             (Role.COMMISSION_CHAIR, internet),
                             (Role.INTERNET_COMMISSION_MEMBER, municipal),
                             (Role.INTERNET_COMMISSION_CHAIR, None)):
        with pytest.raises(services.InvalidMembership):
            services.grant_membership(db_session, clock, None, user, role, commission=commission)
    member = services.grant_membership(db_session, clock, None, user,
                                       Role.INTERNET_COMMISSION_MEMBER, commission=internet)
    assert member.scope_municipality_id is None and user.requires_two_factor
