"""CSRF on every form, rate limits on sign-in, oversized requests: refused, translated, no change."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from tests.conftest import PASSWORD, csrf_token_from


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True, "MAX_CONTENT_LENGTH": 64 * 1024}


def test_form_without_csrf_token_is_refused_and_changes_nothing(client, people, login_as, db_session):
    admin = people.cvk_admin()
    login_as(admin)
    response = client.post("/admin/users", data={"email": "x@example.lv", "display_name": "X"})
    assert response.status_code == 400
    assert "Veidlapas derīgums ir beidzies" in response.get_data(as_text=True)
    assert db_session.scalars(select(User).where(User.email == "x@example.lv")).first() is None


def test_form_with_csrf_token_works(client, people, login_as, db_session):
    login_as(people.cvk_admin())
    token = csrf_token_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post("/admin/users", data={"email": "x@example.lv", "display_name": "X",
                                                  "csrf_token": token})
    assert response.status_code == 302


def test_logout_and_language_forms_need_the_token(client, people, login_as):
    login_as(people.cvk_officer())
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200
    assert client.post("/lang/en").status_code == 400


def test_login_form_needs_the_token(client, people, db_session):
    user = people.observer(two_factor=False)
    db_session.commit()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                            "csrf_token": token})
    assert response.status_code == 302


def test_sign_in_is_rate_limited(client):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    statuses = [client.post("/login", data={"email": f"n{i}@example.lv", "password": "x" * 12,
                                            "csrf_token": token}).status_code for i in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    page = client.post("/login", data={"csrf_token": token})
    assert "Pārāk daudz mēģinājumu" in page.get_data(as_text=True)


def test_voter_code_requests_are_rate_limited(client):
    token = csrf_token_from(client.get("/voter/login").get_data(as_text=True))
    statuses = [client.post("/voter/login", data={"personal_code": "161175-19997",
                                                  "csrf_token": token}).status_code
                for _ in range(6)]
    assert statuses[-1] == 429


def test_oversized_request_is_refused(client):
    response = client.post("/login", data={"email": "a@b.lv", "password": "x" * 100_000})
    assert response.status_code == 413
    assert "par lielu" in response.get_data(as_text=True)
