"""The CVK page for API service tokens: issue (shown once, stored hashed), list, revoke; audited;
refusals leave no token."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select

from portal.cases.models import ServiceToken
from referendum_core.audit import AuditEntry

TOKEN = re.compile(r"rpt_[A-Za-z0-9_\-]{20,}")


def _actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _token_count(db_session) -> int:
    return db_session.scalar(select(func.count(ServiceToken.id)))


def test_only_cvk_administrators_manage_tokens(people, login_as, client):
    assert client.get("/cases/tokens").status_code in (302, 401)
    officer_client = login_as(people.cvk_officer())
    assert officer_client.get("/cases/tokens").status_code == 403
    assert officer_client.post("/cases/tokens", data={"name": "x", "owner_email": "a@b.lv",
                                                      "scopes": ["cases:read"]}).status_code == 403


def test_issued_token_is_shown_once_stored_hashed_audited_and_works(db_session, people,
                                                                    login_as):
    member = people.member()
    client = login_as(people.cvk_admin())
    assert client.get("/cases/tokens").status_code == 200
    response = client.post("/cases/tokens", data={
        "name": "Ādažu IS", "owner_email": member.email.upper(),
        "scopes": ["cases:read", "cases:write"]})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    [plaintext] = set(TOKEN.findall(html))
    row = db_session.scalars(select(ServiceToken)).one()
    assert (row.owner_id, row.name, row.scopes) == (member.id, "Ādažu IS",
                                                    "cases:read cases:write")
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.prefix, row.token_hash, row.name, row.scopes)
    assert "service_token.issued" in _actions(db_session)
    issued = db_session.scalars(select(AuditEntry).where(
        AuditEntry.action == "service_token.issued")).one()
    assert plaintext not in issued.detail
    # Shown once: the list page afterwards names the token but never shows it again.
    listing = client.get("/cases/tokens").get_data(as_text=True)
    assert plaintext not in listing and row.prefix in listing and "Ādažu IS" in listing
    # And it authenticates against the API as the member.
    api = client.application.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {plaintext}"}
                   ).status_code == 200


def test_revoked_token_stops_working_and_revocation_is_audited(db_session, people, login_as):
    member = people.member()
    client = login_as(people.cvk_admin())
    html = client.post("/cases/tokens", data={"name": "IS", "owner_email": member.email,
                                              "scopes": ["cases:read"]}).get_data(as_text=True)
    [plaintext] = set(TOKEN.findall(html))
    row = db_session.scalars(select(ServiceToken)).one()
    response = client.post(f"/cases/tokens/{row.id}/revoke")
    assert response.status_code == 302
    db_session.refresh(row)
    assert row.revoked_at is not None and not row.is_active
    assert "service_token.revoked" in _actions(db_session)
    api = client.application.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {plaintext}"}
                   ).status_code == 401
    # Revoking again changes nothing; an unknown token is 404.
    assert client.post(f"/cases/tokens/{row.id}/revoke").status_code == 302
    assert _actions(db_session).count("service_token.revoked") == 1
    assert client.post("/cases/tokens/999999/revoke").status_code == 404
    page = client.get("/cases/tokens").get_data(as_text=True)
    assert f'data-testid="revoke-{row.id}"' not in page


def test_refused_issues_leave_no_token_and_are_explained(db_session, people, login_as):
    voter = people.voter()
    member = people.member()
    client = login_as(people.cvk_admin())
    cases = [
        ({"name": "IS", "owner_email": "nobody@example.lv", "scopes": ["cases:read"]},
         "unknown_owner"),
        ({"name": "IS", "owner_email": voter.email or "voter@example.lv",
          "scopes": ["cases:read"]}, "owner_without_cases" if voter.email else "unknown_owner"),
        ({"name": "IS", "owner_email": member.email, "scopes": ["admin:all"]}, None),
        ({"name": "", "owner_email": member.email, "scopes": ["cases:read"]}, None),
        ({"name": "IS", "owner_email": member.email}, None),
    ]
    for data, audited_reason in cases:
        response = client.post("/cases/tokens", data=data)
        assert response.status_code == 400, data
        assert 'data-testid="form-error"' in response.get_data(as_text=True)
        if audited_reason:
            last = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
            assert last.action == "service_token.refused" and audited_reason in last.detail
    assert _token_count(db_session) == 0
