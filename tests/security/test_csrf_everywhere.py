"""CSRF on every state-changing route, enumerated from ``app.url_map``: with CSRF on, a POST
without a token is refused (400) before the view runs, whoever sends it. The bearer-token case
API is exempt from CSRF and instead refuses cookie sessions altogether."""
from __future__ import annotations

import pytest

from tests.security.matrix_support import build_world, client_for, routes, urls_for

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_API = "cases_api."


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_every_state_changing_route_needs_a_csrf_token(app, db_session, clock, keys, people,
                                                       connection):
    world = build_world(app, db_session, clock, keys, people)
    problems = []
    checked = 0
    for method, endpoint, rule in routes(app):
        if method not in STATE_CHANGING:
            continue
        for url in urls_for(rule, world.values):
            for role in ("anonymous", "voter", "chair", "admin"):
                client = client_for(app, world.users[role], clock)
                savepoint = connection.begin_nested()
                try:
                    response = client.open(url, method=method, data={"text": "x"})
                    body = response.get_data(as_text=True)
                    if response.is_json:
                        body = (response.get_json() or {}).get("error", "")
                finally:
                    if savepoint.is_active:
                        savepoint.rollback()
                checked += 1
                if endpoint.startswith(TOKEN_API):
                    if response.status_code != 401:
                        problems.append(f"{method} {url} with a cookie session as {role}: "
                                        f"{response.status_code}, expected 401")
                elif response.status_code != 400 or "Veidlapas derīgums" not in body:
                    problems.append(f"{method} {url} ({endpoint}) without a CSRF token as "
                                    f"{role}: {response.status_code}")
    assert checked > 100
    assert not problems, "\n".join(problems)


def test_a_json_post_from_another_site_is_refused_too(app, db_session, clock, keys, people):
    """The ballot API takes JSON from the page's script (with X-CSRFToken); a cross-site form
    or fetch without the token is refused."""
    world = build_world(app, db_session, clock, keys, people)
    client = client_for(app, world.users["voter"], clock)
    url = f"/api/voting/{world.values['referendum_id']}/ballots"
    response = client.post(url, data="{}", content_type="text/plain",
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 400


def test_the_token_api_ignores_cookies_even_with_a_valid_session(app, db_session, clock, keys,
                                                                 people):
    world = build_world(app, db_session, clock, keys, people)
    client = client_for(app, world.users["admin"], clock)
    assert client.get("/api/v1/cases").status_code == 401
    bearer = client_for(app, None, clock, token=world.service_token)
    assert bearer.get("/api/v1/cases").status_code == 200
