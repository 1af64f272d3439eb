"""Each role's access, allowed and refused, against role AND municipality."""
from __future__ import annotations

import pytest

from portal.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Scope,
    has_permission,
    municipalities_for,
)
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
    from portal.accounts.models import Role
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
