"""CVK administrators manage people and roles; every permission change is audited."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Membership, Role, User
from referendum_core.audit import AuditEntry
from referendum_core.organisation import CommissionKind, get_commission
from tests.conftest import municipality


def test_admin_creates_official_and_grants_role(client, people, login_as, db_session):
    admin = people.cvk_admin()
    login_as(admin)
    response = client.post("/admin/users", data={"email": "new@example.lv",
                                                  "display_name": "Jauna Persona"})
    assert response.status_code == 302
    user = db_session.scalars(select(User).where(User.email == "new@example.lv")).one()
    commission = get_commission(db_session, CommissionKind.MUNICIPAL,
                                municipality(db_session, "0001000").id)
    response = client.post(f"/admin/users/{user.id}/memberships",
                           data={"role": "commission_member", "commission_id": str(commission.id),
                                 "municipality_id": ""})
    assert response.status_code == 302
    db_session.expire_all()
    assert [m.role for m in db_session.get(User, user.id).memberships] == [Role.COMMISSION_MEMBER]
    actions = list(db_session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == admin.id)))
    assert {"user.created", "invitation.created", "membership.granted"} <= set(actions)
    assert user.password_hash is None  # the person sets it through the invitation


def test_role_that_does_not_fit_the_commission_is_refused(client, people, login_as, db_session):
    admin = people.cvk_admin()
    target = people.observer()
    login_as(admin)
    commission = get_commission(db_session, CommissionKind.CVK)
    before = db_session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    response = client.post(f"/admin/users/{target.id}/memberships",
                           data={"role": "commission_member", "commission_id": str(commission.id)})
    assert response.status_code == 400
    assert "Šo lomu nevar piešķirt" in response.get_data(as_text=True)
    db_session.expire_all()
    assert len(db_session.get(User, target.id).memberships) == 1
    after = db_session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))
    assert before == after


def test_duplicate_email_is_refused(client, people, login_as):
    admin = people.cvk_admin()
    login_as(admin)
    response = client.post("/admin/users", data={"email": admin.email.upper(), "display_name": "X"})
    assert response.status_code == 409


def test_revoking_a_role_signs_the_person_out_and_is_audited(app, client, people, login_as,
                                                              db_session, clock):
    from tests.conftest import login

    admin = people.cvk_admin()
    member = people.member()
    other = app.test_client()
    login_as(admin)
    login(other, member, clock)
    assert other.get("/account").status_code == 200
    membership = db_session.scalars(select(Membership).where(Membership.user_id == member.id)).one()
    assert client.post(f"/admin/memberships/{membership.id}/revoke").status_code == 302
    assert other.get("/account").status_code == 302
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "membership.revoked")).one()


def test_commission_chair_cannot_manage_people(client, people, login_as):
    login_as(people.chair())
    assert client.post("/admin/users", data={"email": "x@example.lv", "display_name": "X"}).status_code == 403


def test_the_demo_shows_the_invitation_link_it_would_e_mail(client, people, login_as):
    """Without a mail server in the demo (OTP_SHOW_CODE_ON_SCREEN, refused in production) the
    administrator sees the link; it works once."""
    login_as(people.cvk_admin())
    response = client.post("/admin/users", data={"email": "demo.new@example.lv",
                                                  "display_name": "Demo Persona"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Uzaicinājuma saite nosūtīta uz demo.new@example.lv" in page
    assert re.search(r"/invitation/[A-Za-z0-9_-]{40,}", page)
