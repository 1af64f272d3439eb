"""An outside attacker against the voters' OpenID Connect sign-in, with two real providers
(``tests/oidc_support.py``): an identity provider mix-up, a login CSRF (the attacker's answer in
the victim's browser), replayed answers, tokens for another client, a personal code from a
userinfo answer about someone else, open redirects after sign-in, session fixation and a slow
provider. Every one must end with nobody signed in (or the right person) and no server error."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select

from portal.security import SESSION_ID_KEY
from referendum_core.audit import AuditEntry
from tests.oidc_support import CLIENT_ID, authenticate, node_provider, provider_answer, require_node
from tests.portal.accounts.test_oidc import (
    EIDAS,
    EIDAS_ACCOUNTS,
    GATEWAY_ACCOUNTS,
    GATEWAY_LEVELS,
)


@pytest.fixture(scope="module")
def gateway():
    with node_provider(require_node(), "latvija", "gateway", GATEWAY_ACCOUNTS,
                       acr_values=[v for v, _ in GATEWAY_LEVELS]) as provider:
        yield provider


@pytest.fixture(scope="module")
def eidas():
    with node_provider(require_node(), "eidas", "eidas", EIDAS_ACCOUNTS,
                       claims_in_id_token=False,
                       acr_values=[f"{EIDAS}{lv}" for lv in ("low", "substantial", "high")]
                       ) as provider:
        yield provider


@pytest.fixture()
def app_overrides(gateway, eidas):
    for provider in (gateway, eidas):
        provider.proxy.tamper = provider.proxy.signing_key = None
        provider.proxy.down, provider.proxy.delay = False, 0.0
    return {"VOTER_IDENTITY_PROVIDERS": ("oidc",), "OIDC_TIMEOUT": 1.0,
            "OIDC_PROVIDERS": (gateway.settings(levels=GATEWAY_LEVELS), eidas.settings())}


def _not_signed_in(client, response) -> None:
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith("/voter/login")
    assert client.get("/account").status_code == 302


def _refusals(db_session) -> list[dict]:
    return [e.detail_dict for e in db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "voter.oidc_refused"))]


@pytest.mark.parametrize("keep_iss", [True, False], ids=["with-iss", "iss-stripped"])
def test_mix_up_the_gateways_answer_at_the_eidas_callback_is_refused(client, db_session,
                                                                       keep_iss):
    """The browser started at both providers; the gateway's code and state are delivered to
    the eIDAS node's callback (a provider mix-up): the eIDAS client has no such state."""
    client.get("/voter/eid/eidas")
    answer = urlsplit(provider_answer(client, "latvija", "anna-smart-id"))
    query = dict(parse_qsl(answer.query))
    if not keep_iss:
        query.pop("iss", None)
    _not_signed_in(client, client.get(f"/voter/eid/eidas/callback?{urlencode(query)}"))
    assert _refusals(db_session)[0]["provider"] == "eidas"


def test_an_answer_stripped_of_iss_by_a_provider_that_names_itself_is_refused(client,
                                                                              db_session):
    """RFC 9207 2.4: the provider advertises ``iss`` in its answers, so an answer without it
    did not come from it unchanged (a mix-up in the making); state and code are genuine."""
    answer = urlsplit(provider_answer(client, "latvija", "anna-smart-id"))
    query = {k: v for k, v in parse_qsl(answer.query) if k != "iss"}
    _not_signed_in(client, client.get(f"{answer.path}?{urlencode(query)}"))
    assert _refusals(db_session)[0]["problem"] == "authorization response without iss"


def test_login_csrf_the_attackers_answer_in_the_victims_browser_is_refused(app, client):
    """The attacker authenticates as himself and sends his callback link to the victim: the
    state was issued to the attacker's session, so the victim's browser is not signed in."""
    attacker = app.test_client()
    link = provider_answer(attacker, "latvija", "anna-smart-id")
    client.get("/voter/eid/latvija")  # the victim even has a sign-in of her own under way
    _not_signed_in(client, client.get(link))


def test_an_answer_replayed_after_sign_in_and_sign_out_is_refused(client):
    link = provider_answer(client, "latvija", "anna-smart-id")
    assert client.get(link).status_code == 302 and client.get("/account").status_code == 200
    client.post("/logout", data={})
    client.get("/logout")
    with client.session_transaction() as session:
        session.clear()
    _not_signed_in(client, client.get(link))


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda c: c | {"aud": [CLIENT_ID, "another-rp"], "azp": "another-rp"},
                 id="issued-to-another-client-listing-us"),
    pytest.param(lambda c: c | {"azp": "another-rp"}, id="our-aud-another-azp"),
    pytest.param(lambda c: c | {"aud": "another-rp"}, id="another-aud"),
])
def test_a_token_for_another_client_is_refused(client, db_session, gateway, tamper):
    gateway.proxy.tamper = tamper
    _not_signed_in(client, authenticate(client, "latvija", "anna-smart-id"))
    assert [r["reason"] for r in _refusals(db_session)] == ["invalid_token"]


def test_a_personal_code_from_userinfo_about_another_subject_is_refused(client, db_session,
                                                                         eidas):
    """The eIDAS node gives the personal code only at userinfo: an ID token about another
    ``sub`` must not borrow it (OpenID Connect Core 5.3.2)."""
    eidas.proxy.tamper = lambda claims: claims | {"sub": "someone-else"}
    _not_signed_in(client, authenticate(client, "eidas", "hans-de"))
    assert _refusals(db_session)[0]["problem"] == "userinfo sub"


@pytest.mark.parametrize("acr", [None, ["urn:latvija:loa:high"], "urn:latvija:loa:HIGH",
                                 "http://eidas.europa.eu/LoA/low"])
def test_a_level_claim_that_is_absent_odd_or_low_is_refused(client, db_session, gateway, acr):
    """The request asked for the gateway's levels; whatever the token claims decides, and
    only a known value at the required level signs in."""
    gateway.proxy.tamper = (lambda c: {k: v for k, v in c.items() if k != "acr"} if acr is None
                            else c | {"acr": acr})
    _not_signed_in(client, authenticate(client, "latvija", "anna-eparaksts"))
    assert _refusals(db_session)[0]["reason"] == "level_too_low"


def test_an_eidas_identity_without_a_personal_code_is_refused(client, db_session):
    _not_signed_in(client, authenticate(client, "eidas", "lena-fr"))
    assert _refusals(db_session)[0]["reason"] == "no_personal_code"


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "\\\\evil.example",
                                    "https://evil.example/", "/\t/evil.example",
                                    "javascript:alert(1)", " //evil.example"])
def test_next_after_sign_in_stays_on_the_portal(client, target):
    client.get("/voter/login", query_string={"next": target})
    response = authenticate(client, "latvija", "anna-smart-id")
    location = urlsplit(response.headers["Location"])
    assert response.status_code == 302 and not location.netloc and location.path == "/"


def test_a_local_next_is_followed(client):
    client.get("/voter/login", query_string={"next": "/initiatives/"})
    assert authenticate(client, "latvija", "anna-smart-id").headers["Location"].endswith(
        "/initiatives/")


def test_sign_in_starts_a_new_session(client):
    """Session fixation: what the browser carried before (planted by an attacker) is gone and
    the session id is new."""
    with client.session_transaction() as session:
        session[SESSION_ID_KEY] = "planted-by-attacker"
        session["pending_user"] = 1
    authenticate(client, "latvija", "anna-smart-id")
    with client.session_transaction() as session:
        assert session[SESSION_ID_KEY] != "planted-by-attacker"
        assert "pending_user" not in session


def test_a_slow_provider_is_a_clear_message_not_a_hang(client, gateway, db_session):
    link = provider_answer(client, "latvija", "anna-smart-id")
    gateway.proxy.delay = 2.0
    try:
        _not_signed_in(client, client.get(link))
    finally:
        gateway.proxy.delay = 0.0
    assert "neatbild" in client.get("/voter/login").get_data(as_text=True)
    assert _refusals(db_session)[0]["reason"] == "unavailable"


@pytest.mark.parametrize(("given", "shown"), [
    pytest.param("Anna " * 100, ("Anna " * 100).split()[0], id="longer-than-the-column"),
    pytest.param(["Anna", "Marija"], "Anna Marija", id="a-list"),
    pytest.param({"lv": "Anna"}, "Bērziņa", id="an-object"),
    pytest.param("Anna\x00\u202e", "Anna", id="control-characters"),
])
def test_odd_name_claims_sign_in_without_a_server_error(client, db_session, gateway, given,
                                                       shown):
    """The person is identified by the personal code; a name the provider sends in another
    shape or length is shown as well as it can be, never a 500."""
    from portal.accounts.models import User

    gateway.proxy.tamper = lambda claims: claims | {"given_name": given}
    response = authenticate(client, "latvija", "anna-smart-id")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert client.get("/account").status_code == 200
    name = db_session.scalars(select(User.display_name).where(
        User.person_ref.is_not(None))).one()
    assert shown in name and len(name) <= 200
    assert not any(ord(c) < 32 or c in "\u202e" for c in name)


def test_an_audit_label_of_a_name_as_long_as_its_column_keeps_the_account():
    """A display name may fill its column; the audit label (name and account) must still fit
    its own, or every audited action of that person fails on PostgreSQL."""
    from portal.accounts.models import User
    from referendum_core.audit import LABEL_LENGTH

    label = User(id=5, display_name="Ā" * 200).audit_label
    assert len(label) == LABEL_LENGTH and label.endswith(" <user#5>")
